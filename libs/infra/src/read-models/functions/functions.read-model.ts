import type { ReadFunction } from '../read-function.entity.js';
import type { Audience, Slice } from '../visibility.js';

export const FUNCTIONS_READ_MODEL = Symbol('FUNCTIONS_READ_MODEL');

/** What the API asks about functions as they are now. */
export interface FunctionsReadModel {
  /** By name; owner and repo match case-insensitively (GitHub logins are). `after`: the last name of the previous page. */
  list(
    filter: Readonly<{ owner?: string; repo?: string }>,
    page: Readonly<{ limit: number; after?: string; audience: Audience }>,
  ): Promise<Slice<ReadFunction>>;
  named(name: string, audience: Audience): Promise<ReadFunction | null>;
  /** The FunctionDeployed event behind the deployed version, whoever asks: undefined for no such function. */
  deployEventOf(name: string): Promise<string | null | undefined>;
}
