/** Injection tokens for the backbone parts, shared by the api and the projector. */
export const BACKBONE = Symbol('BACKBONE');
export const EVENT_LOG = Symbol('EVENT_LOG');
export const EVENT_STORE = Symbol('EVENT_STORE');
export const DATA_SOURCE = Symbol('DATA_SOURCE');
export const CONFIG = Symbol('CONFIG');
