/**
 * A one-line progress report for long commands (`fis import`, `fis export`):
 * records done, rate, and time left when the total is known. Drawn on standard
 * error only when it is a terminal, at most five times a second; otherwise
 * (a pipe, a file, CI) the command stays quiet and prints only its summary.
 */
import { createReadStream } from 'node:fs';

export interface ProgressStream {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

const EVERY_MS = 200;
const number = new Intl.NumberFormat('en-US');

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return m < 60 ? `${m} min ${s} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

export class Progress {
  private done = 0;
  private total: number | undefined;
  private last = 0;
  private readonly started = performance.now();
  private drawn = false;
  readonly enabled: boolean;

  constructor(
    private readonly verb: string,
    private readonly stream: ProgressStream = process.stderr,
    options: { enabled?: boolean } = {},
  ) {
    this.enabled = options.enabled ?? stream.isTTY === true;
  }

  /** The total, once known (it may arrive while the work runs). */
  setTotal(total: number): void {
    this.total = total;
  }

  update(done: number): void {
    this.done = done;
    if (!this.enabled) return;
    const now = performance.now();
    if (now - this.last < EVERY_MS) return;
    this.last = now;
    this.stream.write(`\r\x1b[2K${this.line(now)}`);
    this.drawn = true;
  }

  /** Clears the line, so that the command's summary stands alone. */
  finish(): void {
    if (this.enabled && this.drawn) this.stream.write('\r\x1b[2K');
  }

  line(now = performance.now()): string {
    const seconds = (now - this.started) / 1000;
    const rate = seconds > 0 ? this.done / seconds : 0;
    const parts = [`${this.verb} ${number.format(this.done)}${this.total !== undefined ? ` of ~${number.format(this.total)}` : ''} records`];
    if (seconds >= 0.5) parts.push(`${number.format(Math.round(rate))}/s`);
    if (this.total !== undefined && rate > 0) {
      const left = Math.max(0, this.total - this.done) / rate;
      parts.push(this.done >= this.total ? 'finishing' : `${formatDuration(left)} left`);
    }
    return parts.join(', ');
  }
}

/** Lines in a file (one NDJSON record each, give or take blank lines): the import's total, counted while it runs. */
export async function countLines(file: string): Promise<number> {
  let lines = 0;
  let lastByte = 0x0a;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    let at = chunk.indexOf(0x0a);
    while (at !== -1) {
      lines++;
      at = chunk.indexOf(0x0a, at + 1);
    }
    if (chunk.length > 0) lastByte = chunk[chunk.length - 1] as number;
  }
  return lastByte === 0x0a ? lines : lines + 1;
}
