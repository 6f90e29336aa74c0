export const SOURCE_READER = Symbol('SOURCE_READER');
