const TAIL_LINES = 20;
const TAIL_BYTES = 2000;
/** A single line longer than this is cut: one huge line must not defeat the head and tail bounds. */
export const MAX_LINE_BYTES = 16 * 1024;

/**
 * A build's log with bounded memory however much the build prints: the first `headBytes` and the last
 * `tailBytes` are kept, what falls between is counted and stored as one `… N bytes omitted …` line.
 */
export class BuildLog {
  private readonly head: string[] = [];
  private headSize = 0;
  private headFull = false;
  private tail: string[] = [];
  private tailStart = 0;
  private tailSize = 0;
  private omitted = 0;

  constructor(
    private readonly headBytes = 1024 * 1024,
    private readonly tailBytes = 1024 * 1024,
  ) {}

  push(line: string): void {
    const kept = line.length > MAX_LINE_BYTES ? `${line.slice(0, MAX_LINE_BYTES)} … (line cut at ${MAX_LINE_BYTES} characters)` : line;
    const size = Buffer.byteLength(kept) + 1;
    if (!this.headFull && this.headSize + size <= this.headBytes) {
      this.head.push(kept);
      this.headSize += size;
      return;
    }
    this.headFull = true;
    this.tail.push(kept);
    this.tailSize += size;
    while (this.tailSize > this.tailBytes && this.tailStart < this.tail.length - 1) {
      const dropped = this.tail[this.tailStart]!;
      this.tail[this.tailStart] = '';
      this.tailStart += 1;
      const droppedSize = Buffer.byteLength(dropped) + 1;
      this.tailSize -= droppedSize;
      this.omitted += droppedSize;
    }
    // Dropped entries are compacted away now and then, so the array never grows with the build's output.
    if (this.tailStart > 1024 && this.tailStart * 2 > this.tail.length) {
      this.tail = this.tail.slice(this.tailStart);
      this.tailStart = 0;
    }
  }

  /** Bytes of output left out between head and tail. */
  get omittedBytes(): number {
    return this.omitted;
  }

  /** What is stored: head, the omission note when something was left out, tail. */
  text(): string {
    const tail = this.tail.slice(this.tailStart);
    const middle = this.omitted > 0 ? [`… ${this.omitted} bytes omitted …`] : [];
    return [...this.head, ...middle, ...tail].join('\n');
  }

  /** The last lines, short enough to travel in the build's event. */
  lastLines(): string {
    const tail = this.tail.slice(Math.max(this.tailStart, this.tail.length - TAIL_LINES));
    const recent = this.omitted > 0 ? tail : [...this.head.slice(-TAIL_LINES), ...tail];
    return recent.slice(-TAIL_LINES).join('\n').slice(-TAIL_BYTES);
  }
}
