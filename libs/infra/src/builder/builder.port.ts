/** One image build. The context is the shrinkwrapped archive; daemons that fetch it themselves get `contextUrl`. */
export type BuildRequest = Readonly<{
  buildId: string;
  /** Whose build: the owner's GitHub id, or the lower-cased login where no id is known. Package caches are per owner. */
  owner: string;
  name: string;
  lang: string;
  image: string;
  contextDigest: string;
  archive: Buffer;
  buildArgs: Readonly<Record<string, string>>;
  /** An unguessable, expiring URL serving the context as .tar.gz with the Dockerfile at its root. */
  contextUrl: string;
  /** BUILD_PLATFORMS (`os/arch[/variant]`) for one multi-platform image; absent or empty: the builder's own. */
  platforms?: readonly string[];
}>;

export type BuildResult = Readonly<{ image: string; digest: string | null }>;

/** A build that failed for a reason the user should read (their Dockerfile, their dependencies). */
export class BuildFailure extends Error {
  override readonly name = 'BuildFailure';
}

/** Why a build past BUILD_TIMEOUT failed, in the same words for every builder. */
export const buildTimeoutReason = (timeoutMs: number) => `build exceeded BUILD_TIMEOUT of ${Math.round(timeoutMs / 1000)} s`;

export interface Builder {
  readonly kind: 'buildkit' | 'local';
  /** Resolves with the pushed or materialised image; rejects with BuildFailure, or anything else for infrastructure trouble. */
  build(request: BuildRequest, log: (line: string) => void, signal: AbortSignal): Promise<BuildResult>;
  /** Whether an image built earlier is still there to deploy (a local one may have been evicted from disk). Absent: always. */
  holds?(image: string): Promise<boolean>;
}
