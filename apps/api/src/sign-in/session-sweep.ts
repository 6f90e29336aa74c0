import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger, SessionStore } from '#infra';
import { LOGGER } from '#kernel';
import { SESSIONS } from '../tokens.js';

const EVERY_MS = 60 * 60_000;

/**
 * Deletes expired sessions and abandoned sign-ins hourly, besides the lazy deletion when one is shown:
 * a browser that never comes back leaves no session row behind for long.
 */
@Injectable()
export class SessionSweep implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    @Inject(SESSIONS) private readonly sessions: SessionStore,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep(), EVERY_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async sweep(): Promise<void> {
    await this.sessions.sweep(new Date()).catch((error: Error) => this.logger.warn(`session sweep failed: ${error.message}`));
  }
}
