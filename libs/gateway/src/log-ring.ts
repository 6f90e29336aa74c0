import type { LogLine } from './function-process.js';

/** What one kept line costs besides its text (the object, its timestamp and names), roughly. */
const LINE_OVERHEAD_BYTES = 160;

/**
 * The gateway's recent function output: the newest lines that fit in `maxBytes` (text and a fixed overhead each).
 * Adding a line and evicting the oldest cost the same whatever is kept: a circular array, grown when needed.
 */
export class LogRing {
  private slots: (LogLine | undefined)[] = new Array<LogLine | undefined>(1024);
  private head = 0;
  private count = 0;
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  push(line: LogLine): void {
    const cost = sizeOf(line);
    while (this.count > 0 && this.bytes + cost > this.maxBytes) this.evict();
    if (this.count === this.slots.length) this.grow();
    this.slots[(this.head + this.count) % this.slots.length] = line;
    this.count += 1;
    this.bytes += cost;
  }

  /** Oldest first. */
  *lines(): IterableIterator<LogLine> {
    for (let index = 0; index < this.count; index++) yield this.slots[(this.head + index) % this.slots.length]!;
  }

  get size(): number {
    return this.count;
  }

  get usedBytes(): number {
    return this.bytes;
  }

  private evict(): void {
    const oldest = this.slots[this.head]!;
    this.slots[this.head] = undefined;
    this.head = (this.head + 1) % this.slots.length;
    this.count -= 1;
    this.bytes -= sizeOf(oldest);
  }

  private grow(): void {
    this.slots = [...this.lines(), ...new Array<LogLine | undefined>(this.slots.length)];
    this.head = 0;
  }
}

const sizeOf = (line: LogLine) => LINE_OVERHEAD_BYTES + line.text.length + line.name.length + line.instance.length;
