import { createHmac } from 'node:crypto';
import type { Builder, BuildLogStore, CommitStatusReporter, Config, ContextStore, GatewayClient } from '#infra';
import { constantTimeEqual } from '#infra';

/** What the build, deploy, report and clean-up steps act through: one object, wired once in the pipeline module. */
export type PipelineParts = Readonly<{
  config: Config;
  builder: Builder;
  logs: BuildLogStore;
  contexts: ContextStore;
  /** null until a gateway is configured (OPENFAAS_URL) or the embedded one runs. */
  gateway: GatewayClient | null;
  reporter: CommitStatusReporter;
  links: Links;
}>;

/**
 * Links that leave the platform (commit statuses, BuildKit) carry an HMAC of what they open, so a build log or a
 * build context is readable by whoever GitHub shows the link to, and by nobody who merely guesses an id.
 */
export class Links {
  constructor(
    private readonly key: Buffer,
    private readonly publicUrl: string,
    private readonly gatewayPublicUrl: string,
  ) {}

  static fromSecret(webhookSecret: string, publicUrl: string, gatewayPublicUrl: string): Links {
    // Derived from the webhook secret, which every instance shares, so any instance can check any link.
    return new Links(createHmac('sha256', webhookSecret).update('faasline links v1').digest(), publicUrl, gatewayPublicUrl);
  }

  endpoint(name: string): string {
    return `${this.gatewayPublicUrl}/function/${name}`;
  }

  buildLog(buildId: string): string {
    return `${this.publicUrl}/api/v1/builds/${encodeURIComponent(buildId)}/log?token=${this.sign(`log:${buildId}`)}`;
  }

  checkBuildLog(buildId: string, token: string): boolean {
    return constantTimeEqual(token, this.sign(`log:${buildId}`));
  }

  /** For a build daemon: the context as .tar.gz, valid for `ttlMs`. */
  buildContext(digest: string, ttlMs: number, now = Date.now()): string {
    const expires = Math.floor((now + ttlMs) / 1000);
    return `${this.publicUrl}/internal/build-contexts/${digest}.tar.gz?expires=${expires}&token=${this.sign(`context:${digest}:${expires}`)}`;
  }

  checkBuildContext(digest: string, expires: number, token: string, now = Date.now()): boolean {
    return expires * 1000 > now && constantTimeEqual(token, this.sign(`context:${digest}:${expires}`));
  }

  private sign(subject: string): string {
    return createHmac('sha256', this.key).update(subject).digest('base64url');
  }
}
