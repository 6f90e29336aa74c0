/** Sealed values by fingerprint (`sealedFingerprint`): written when a push is read, read when its secrets are set. */
export interface SealedSecretStore {
  put(fingerprint: string, sealed: string): Promise<void>;
  get(fingerprint: string): Promise<string | null>;
}
