export type SyntheticOptions = Readonly<{
  repositories?: number;
  functionsPerRepo?: number;
  seed?: string;
  outbox?: boolean;
  streamVersions?: Map<string, number>;
}>;
export function syntheticEvents(count: number, options?: SyntheticOptions): Generator<Record<string, unknown>>;
export function writeSyntheticHistory(databaseUrl: string, count: number, options?: SyntheticOptions): Promise<number>;
