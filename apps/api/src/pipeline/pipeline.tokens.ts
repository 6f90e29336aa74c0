export const SOURCE_READER = Symbol('SOURCE_READER');
export const PIPELINE_PARTS = Symbol('PIPELINE_PARTS');
