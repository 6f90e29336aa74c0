/** Injection tokens for the backbone parts, shared by the api and the projector. */
export const BACKBONE = Symbol('BACKBONE');
export const CONFIG = Symbol('CONFIG');
export const LOGGER = Symbol('LOGGER');
