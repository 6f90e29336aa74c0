export const SOURCE_READER = Symbol('SOURCE_READER');
export const PIPELINE_PARTS = Symbol('PIPELINE_PARTS');
/** What every pipeline step runs with (a StepContext). */
export const STEP_CONTEXT = Symbol('STEP_CONTEXT');
/** How the pipeline reads private repositories and reports statuses: a GitHub App, a token or nothing. */
export const GIT_CREDENTIALS = Symbol('GIT_CREDENTIALS');
/** Sealed values of pushes' secrets.yml by fingerprint (SealedSecretStore). */
export const SEALED_SECRETS = Symbol('SEALED_SECRETS');
/** How the deploy step holds an owner to MAX_FUNCTIONS_PER_OWNER (OwnerFunctions). */
export const OWNER_FUNCTIONS = Symbol('OWNER_FUNCTIONS');
