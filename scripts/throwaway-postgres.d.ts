export type ScratchDatabase = Readonly<{ url: string; drop: () => Promise<void> }>;
export function startThrowawayPostgres(): Promise<Readonly<{ url: string; stop: () => Promise<void> }>>;
export function createScratchDatabase(serverUrl: string, prefix: string): Promise<ScratchDatabase>;
