import { createHmac } from 'node:crypto';
import { constantTimeEqual } from '#infra';

/** What a link check found: `expired` only for a token this server signed for exactly this build or digest. */
export type LinkCheck = 'valid' | 'expired' | 'wrong';

/**
 * Links that leave the platform (commit statuses, BuildKit) carry an HMAC of what they open and until when, so a
 * build log or a build context is readable by whoever GitHub shows the link to, for a while, and by nobody who
 * merely guesses an id. The key is LINKS_SECRET's alone: a leaked link or webhook secret does not forge the other.
 */
export class Links {
  constructor(
    private readonly key: Buffer,
    private readonly publicUrl: string,
    private readonly gatewayPublicUrl: string,
    private readonly buildLogTtlMs: number,
  ) {}

  static fromSecret(linksSecret: string, publicUrl: string, gatewayPublicUrl: string, buildLogTtlMs: number): Links {
    // Derived from LINKS_SECRET, which every instance shares, so any instance can check any link.
    return new Links(createHmac('sha256', linksSecret).update('faasline links v2').digest(), publicUrl, gatewayPublicUrl, buildLogTtlMs);
  }

  endpoint(name: string): string {
    return `${this.gatewayPublicUrl}/function/${name}`;
  }

  /** The build's log for LINK_TTL from `now`. */
  buildLog(buildId: string, now = Date.now()): string {
    const expires = Math.floor((now + this.buildLogTtlMs) / 1000);
    return `${this.publicUrl}/api/v1/builds/${encodeURIComponent(buildId)}/log?expires=${expires}&token=${this.sign('log', buildId, expires)}`;
  }

  checkBuildLog(buildId: string, expires: number, token: string, now = Date.now()): LinkCheck {
    return this.check('log', buildId, expires, token, now);
  }

  /** For a build daemon: the context as .tar.gz, valid for `ttlMs`. */
  buildContext(digest: string, ttlMs: number, now = Date.now()): string {
    const expires = Math.floor((now + ttlMs) / 1000);
    return `${this.publicUrl}/internal/build-contexts/${digest}.tar.gz?expires=${expires}&token=${this.sign('context', digest, expires)}`;
  }

  checkBuildContext(digest: string, expires: number, token: string, now = Date.now()): LinkCheck {
    return this.check('context', digest, expires, token, now);
  }

  private check(kind: string, subject: string, expires: number, token: string, now: number): LinkCheck {
    if (!constantTimeEqual(token, this.sign(kind, subject, expires))) return 'wrong';
    return expires * 1000 > now ? 'valid' : 'expired';
  }

  /** Kind, subject and expiry as one JSON array: no two different links share the signed text. */
  private sign(kind: string, subject: string, expires: number): string {
    return createHmac('sha256', this.key)
      .update(JSON.stringify([kind, subject, expires]))
      .digest('base64url');
  }
}
