/** Build contexts by content digest: written once by the source step, read by the builder. */
export interface ContextStore {
  put(digest: string, archive: Buffer): Promise<void>;
  get(digest: string): Promise<Buffer | null>;
}
