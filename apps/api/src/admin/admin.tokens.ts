export const REPLAYER = Symbol('REPLAYER');
