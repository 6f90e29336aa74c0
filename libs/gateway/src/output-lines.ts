/**
 * What a function prints, made into log lines the gateway can afford to keep whatever the function does: a line is
 * cut at `maxLineBytes` (output without a newline never grows a buffer), and a function gets `linesPerSecond` lines
 * and `bytesPerSecond` bytes a second; beyond that its lines are dropped and one marker line says how many.
 */
export type OutputLimits = Readonly<{ maxLineBytes: number; linesPerSecond: number; bytesPerSecond: number }>;

export const OUTPUT_LIMITS: OutputLimits = { maxLineBytes: 16 * 1024, linesPerSecond: 1000, bytesPerSecond: 1024 * 1024 };

const NEWLINE = 0x0a;
const WINDOW_MS = 1000;

/** One function's allowance, shared by its stdout and stderr (and by its restarts). */
export class OutputBudget {
  private windowStart = -Infinity;
  private lines = 0;
  private bytes = 0;
  private dropped = 0;
  private marker: NodeJS.Timeout | undefined;

  constructor(
    private readonly emit: (text: string) => void,
    readonly limits: OutputLimits = OUTPUT_LIMITS,
  ) {}

  /** Whether this second's allowance is used up: what arrives now is dropped unread. */
  exhausted(): boolean {
    this.roll();
    return this.lines >= this.limits.linesPerSecond || this.bytes >= this.limits.bytesPerSecond;
  }

  /** Logs a complete line, or counts it as dropped when it does not fit this second's allowance. */
  line(text: string, bytes: number): void {
    if (this.exhausted() || this.bytes + bytes > this.limits.bytesPerSecond) return this.drop(1);
    this.lines += 1;
    this.bytes += bytes;
    this.emit(text);
  }

  drop(lines: number): void {
    if (lines <= 0) return;
    this.dropped += lines;
    // One marker at the end of the second, also when the function falls silent after its flood.
    this.marker ??= setTimeout(() => this.flush(), Math.max(0, this.windowStart + WINDOW_MS - Date.now())).unref();
  }

  /** Says now how many lines were dropped (when the function ends). */
  flush(): void {
    clearTimeout(this.marker);
    this.marker = undefined;
    if (this.dropped === 0) return;
    const { linesPerSecond, bytesPerSecond } = this.limits;
    this.emit(`… ${this.dropped} lines dropped (more than ${linesPerSecond} lines or ${bytesPerSecond} bytes of output a second)`);
    this.dropped = 0;
  }

  private roll(): void {
    const now = Date.now();
    if (now - this.windowStart < WINDOW_MS) return;
    this.windowStart = now;
    this.lines = 0;
    this.bytes = 0;
  }
}

/** Splits one stream (stdout or stderr) into lines; what it keeps of a line in progress is at most `maxLineBytes`. */
export class OutputLines {
  private partial: Buffer[] = [];
  private partialBytes = 0;
  /** The rest of the current line is ignored: it was already logged cut at the limit, or counted as dropped. */
  private skipping = false;

  constructor(private readonly budget: OutputBudget) {}

  push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.budget.exhausted()) return this.dropFrom(chunk, offset);
      const end = chunk.indexOf(NEWLINE, offset);
      const piece = chunk.subarray(offset, end < 0 ? chunk.length : end);
      if (!this.skipping) {
        const room = this.budget.limits.maxLineBytes - this.partialBytes;
        this.keep(piece.subarray(0, room));
        if (piece.length > room) {
          this.complete(` …(cut at ${this.budget.limits.maxLineBytes} bytes)`);
          this.skipping = true;
        }
      }
      if (end < 0) return;
      if (!this.skipping) this.complete('');
      this.skipping = false;
      offset = end + 1;
    }
  }

  /** The stream ended: its last line, even without a newline. */
  end(): void {
    if (!this.skipping) this.complete('');
    this.skipping = false;
  }

  private keep(piece: Buffer): void {
    if (piece.length === 0) return;
    this.partial.push(piece);
    this.partialBytes += piece.length;
  }

  private complete(suffix: string): void {
    const bytes = this.partialBytes;
    const text = this.partial.length === 1 ? this.partial[0]!.toString('utf8') : Buffer.concat(this.partial, bytes).toString('utf8');
    this.partial = [];
    this.partialBytes = 0;
    if (bytes > 0) this.budget.line(`${text}${suffix}`, bytes);
  }

  /**
   * Over the allowance: the rest of the chunk is dropped, only its newlines counted (a byte loop: a `y\n` flood
   * costs no work per line). A line is counted when its first byte is dropped.
   */
  private dropFrom(chunk: Buffer, offset: number): void {
    let newlines = 0;
    let last = -1;
    for (let index = offset; index < chunk.length; index++) {
      if (chunk[index] === NEWLINE) {
        newlines += 1;
        last = index;
      }
    }
    const inProgress = this.partialBytes > 0 || chunk[offset] !== NEWLINE;
    this.partial = [];
    this.partialBytes = 0;
    if (newlines === 0) {
      if (!this.skipping && inProgress) this.budget.drop(1);
      this.skipping = true;
      return;
    }
    // The line in progress ends at the first newline; every further newline ends a line wholly dropped.
    this.budget.drop((this.skipping || !inProgress ? 0 : 1) + newlines - 1);
    const trailing = last < chunk.length - 1;
    if (trailing) this.budget.drop(1);
    this.skipping = trailing;
  }
}
