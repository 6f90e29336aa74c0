import { randomUUID } from 'node:crypto';
import { status as grpcStatus, type ChannelCredentials } from '@grpc/grpc-js';
import { BuildFailure, buildTimeoutReason, type Builder, type BuildRequest, type BuildResult } from './builder.port.js';
import { controlClient, insecureChannel, type ControlClient, type StatusResponse } from './buildkit-proto.js';
import { openBuildKitSession, type BuildKitSession } from './buildkit-session.js';
import { contextEntries } from './filesync.js';
import { RegistryAuth } from './registry-auth.js';
import { isToolErrorLine, withToolError } from './tool-error.js';

/** Error lines of one solve kept for its failure reason: npm's and pip's meaningful one comes early. */
const MAX_ERROR_LINES = 200;

/**
 * BUILDKIT_CONTEXT and REGISTRY_AUTH_FILE: where BuildKit gets the context (`session`: from this process over the
 * build's session; `http`: from the api's context URL) and which config.json lends it registry credentials.
 */
export type BuildKitOptions = Readonly<{ context: 'session' | 'http'; registryAuthFile: string | null }>;

/**
 * Builds with a BuildKit daemon: the dockerfile.v0 frontend reads the context as the local dirs `context` and
 * `dockerfile` over a session this process opens and serves (or, with BUILDKIT_CONTEXT=http, fetches it from the
 * api), the image exporter pushes with the credentials the session lends. Status is streamed with the same ref
 * into the build log.
 */
export class BuildKitBuilder implements Builder {
  readonly kind = 'buildkit';
  private readonly client: ControlClient;
  private readonly tls: boolean;

  constructor(
    private readonly address: string,
    /** BUILD_TIMEOUT: the solve's gRPC deadline; the daemon cancels a solve whose deadline passed. */
    private readonly timeoutMs = 600_000,
    /** Plaintext, or TLS from `buildkitChannel` (BUILDKIT_TLS_*); which one shapes the advice of a failed connection. */
    channel: ChannelCredentials = insecureChannel(),
    private readonly options: BuildKitOptions = { context: 'session', registryAuthFile: null },
  ) {
    this.client = controlClient(address, channel);
    this.tls = channel._isSecure();
  }

  build(request: BuildRequest, log: (line: string) => void, signal: AbortSignal): Promise<BuildResult> {
    const ref = randomUUID().replace(/-/g, '');
    const attrs: Record<string, string> = { name: request.image, push: 'true' };
    if (isLoopbackRegistry(request.image)) attrs['registry.insecure'] = 'true';
    // Without a `context` attribute the frontend reads the local dirs `context` and `dockerfile` over the session.
    const frontendAttrs: Record<string, string> =
      this.options.context === 'http' ? { context: request.contextUrl, filename: 'Dockerfile' } : { filename: 'Dockerfile' };
    for (const [name, value] of Object.entries(request.buildArgs)) frontendAttrs[`build-arg:${name}`] = value;
    // As buildx passes --platform: one comma-separated attribute, and the image exporter pushes one index of them.
    if (request.platforms?.length) frontendAttrs.platform = request.platforms.join(',');
    let auth: RegistryAuth | null;
    let session: BuildKitSession | null;
    try {
      ({ auth, session } = this.lend(request));
    } catch (error) {
      return Promise.reject(error as Error);
    }
    const redact = (text: string) => redactToken(auth ? auth.redact(text) : text);

    const status = this.client.status({ Ref: ref });
    const named = new Map<string, string>();
    // The tools' error lines (npm's, pip's), bounded: the failure's reason leads with the meaningful one.
    const errorLines: string[] = [];
    status.on('data', (update: StatusResponse) => {
      for (const vertex of update.vertexes) {
        if (!named.has(vertex.digest)) {
          named.set(vertex.digest, vertex.name);
          log(`#${named.size} ${redact(vertex.name)}${vertex.cached ? ' CACHED' : ''}`);
        }
        if (vertex.error) log(`#${[...named.keys()].indexOf(vertex.digest) + 1} ERROR: ${redact(vertex.error)}`);
      }
      for (const line of update.logs) {
        for (const text of line.msg.toString('utf8').split('\n').filter(Boolean)) {
          if (isToolErrorLine(text) && errorLines.length < MAX_ERROR_LINES) errorLines.push(redact(text).slice(0, 1000));
          log(`#${[...named.keys()].indexOf(line.vertex) + 1} ${redact(text)}`);
        }
      }
    });
    status.on('error', () => undefined); // the solve's own outcome says what went wrong
    // The daemon ends the status stream when the solve ends; its last lines may come after the solve's answer,
    // so after the answer the stream gets a short grace period to finish on its own.
    let streamEnded: () => void = () => undefined;
    const ended = new Promise<void>((resolve) => (streamEnded = resolve));
    status.on('end', () => streamEnded());
    status.on('error', () => streamEnded());
    const drained = () => Promise.race([ended, new Promise<void>((resolve) => setTimeout(resolve, 2000))]).then(() => status.cancel());

    return new Promise<BuildResult>((resolve, reject) => {
      const call = this.client.solve(
        {
          Ref: ref,
          Session: session?.id ?? '',
          Frontend: 'dockerfile.v0',
          FrontendAttrs: frontendAttrs,
          // Both forms: old daemons read the deprecated fields, new ones the list.
          ExporterDeprecated: 'image',
          ExporterAttrsDeprecated: attrs,
          Exporters: [{ Type: 'image', Attrs: attrs }],
        },
        { deadline: new Date(Date.now() + this.timeoutMs) },
        async (error, response) => {
          signal.removeEventListener('abort', cancel);
          await drained();
          session?.close();
          if (error) {
            const message = redact(error.details || error.message);
            if (error.code === grpcStatus.DEADLINE_EXCEEDED) reject(new BuildFailure(buildTimeoutReason(this.timeoutMs)));
            else if (error.code === grpcStatus.UNAVAILABLE && /^No connection established/.test(error.details))
              reject(new Error(`BuildKit: ${unreachable(this.address, this.tls, error.details)}`));
            else if (error.code === grpcStatus.UNAVAILABLE || error.code === grpcStatus.CANCELLED)
              reject(new Error(`BuildKit: ${message}`));
            else reject(new BuildFailure(withToolError(message, errorLines)));
            return;
          }
          const exported = response?.ExporterResponse ?? {};
          resolve({ image: exported['image.name'] ?? request.image, digest: exported['containerimage.digest'] ?? null });
        },
      );
      const cancel = () => call.cancel();
      signal.addEventListener('abort', cancel, { once: true });
    });
  }

  /**
   * What the build's session lends BuildKit: the credentials of REGISTRY_AUTH_FILE (read for every build, so a
   * rotated Secret is used without a restart) and, with BUILDKIT_CONTEXT=session, the context as the frontend's two
   * local dirs. No session when there is nothing to lend.
   */
  private lend(request: BuildRequest): { auth: RegistryAuth | null; session: BuildKitSession | null } {
    const auth = this.options.registryAuthFile === null ? null : RegistryAuth.fromFile(this.options.registryAuthFile);
    if (!auth && this.options.context === 'http') return { auth, session: null };
    const entries = this.options.context === 'session' ? contextEntries(request.archive) : null;
    const dirs = new Map(
      entries
        ? [
            ['context', entries],
            ['dockerfile', entries],
          ]
        : [],
    );
    return { auth, session: openBuildKitSession(this.client, `faasline-${request.buildId}`, { auth, dirs }) };
  }
}

/**
 * Why no connection to the daemon came up, for an operator reading a build log: grpc-js's wrapping, its timestamp
 * and OpenSSL's source locations dropped, with what to check when the cause looks like TLS on one side only.
 */
function unreachable(address: string, tls: boolean, details: string): string {
  const cause =
    details
      .replace(/^No connection established\. Last error: /, '')
      .replace(/\.?\s*Resolution note:[\s\S]*$/, '')
      .replace(/\s*\(\d{4}-\d\d-\d\dT[^)]*\)/, '')
      .replace(/^[0-9A-F]+:error:[0-9A-F]+:SSL routines:[^:]*:/, '')
      .replace(/:[^:\s]*\/openssl\/[\s\S]*$/, '')
      .replace(/^Error(?: \[\w+\])?: /, '')
      .trim() || 'no reason given';
  const refused = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT/.test(cause);
  const hint = refused
    ? ''
    : tls
      ? " (TLS: BUILDKIT_TLS_CA must have signed the daemon's certificate, and buildkitd's --tlscacert BUILDKIT_TLS_CERT)"
      : /^Failed to connect$|TLS|SSL/i.test(cause)
        ? ' (if buildkitd runs with --tlscacert, set BUILDKIT_TLS_CA, BUILDKIT_TLS_CERT and BUILDKIT_TLS_KEY)'
        : '';
  return `no connection to ${address}${tls ? ' over TLS' : ''}: ${cause}${hint}`;
}

function isLoopbackRegistry(image: string): boolean {
  const host = image.split('/')[0]!.replace(/:\d+$/, '');
  return host === 'localhost' || host === '127.0.0.1' || host === '[::1]';
}

/** The daemon quotes the context URL in its messages; its token must not reach logs, events or GitHub. */
const redactToken = (text: string) => text.replace(/token=[^&\s"']+/g, 'token=REDACTED');
