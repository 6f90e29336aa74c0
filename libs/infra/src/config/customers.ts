import { readFile, stat } from 'node:fs/promises';
import type { Config } from './config.js';

/** The owners allowed to build, lower-cased, or null for everyone; a CUSTOMERS_FILE is re-read when it changes. */
export type CustomerList = () => Promise<readonly string[] | null>;

export function customerList(config: Pick<Config, 'customers' | 'customersFile'>): CustomerList {
  if (config.customersFile === null) return async () => config.customers;
  const file = config.customersFile;
  let cached: { mtimeMs: number; owners: readonly string[] } | null = null;
  return async () => {
    const { mtimeMs } = await stat(file);
    if (cached?.mtimeMs !== mtimeMs) {
      const owners = (await readFile(file, 'utf8'))
        .split(/[\n,]/)
        .map((line) => line.replace(/#.*/, '').trim().toLowerCase())
        .filter(Boolean);
      cached = { mtimeMs, owners: [...new Set([...(config.customers ?? []), ...owners])] };
    }
    return cached.owners;
  };
}
