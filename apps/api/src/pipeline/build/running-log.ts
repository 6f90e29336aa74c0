/**
 * Saves a running build's log a moment after it grows, so `GET /api/v1/builds/{id}/log` (and `faasline build-log
 * --follow`) shows a build in progress. Saves are chained, so an earlier one never lands after a later one; the
 * step stops it before its final save.
 */
export class RunningLog {
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly save: () => Promise<void>,
    private readonly delayMs = 1000,
  ) {}

  grew(): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      // A lost intermediate save only delays what a reader sees; the final save is the one that counts.
      this.chain = this.chain.then(this.save).catch(() => undefined);
    }, this.delayMs);
    this.timer.unref();
  }

  /** No more intermediate saves (lines logged after this wait for the step's own save): resolves once the one in flight has landed. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.chain;
  }
}
