/** Child processes of the benchmark: how they are started, watched and stopped. */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

type MemoryField = 'VmRSS' | 'VmHWM' | 'RssAnon' | 'RssFile';

/** Fields of a process's memory in MB, from one read of /proc/<pid>/status (Linux), or undefined when it is gone. */
function memoryMb(pid: number): Partial<Record<MemoryField, number>> | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const fields: Partial<Record<MemoryField, number>> = {};
    for (const [, name, kb] of status.matchAll(/^(VmRSS|VmHWM|RssAnon|RssFile):\s+(\d+) kB/gm)) fields[name as MemoryField] = Number(kb) / 1024;
    return fields;
  } catch {
    return undefined;
  }
}

/** Resident memory of a process in MB (Linux /proc), or undefined when it is gone. */
export function residentMb(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number | undefined {
  return memoryMb(pid)?.[field];
}

/** A process and its descendants (Linux /proc): a service with SERVE_PROCESSES > 1 is a primary and its workers. */
export function processTree(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Field 4 is the parent pid; field 2, the command name in parentheses, may hold spaces.
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // Gone while we looked.
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    for (const [child, parent] of parents) if (parent === tree[i]) tree.push(child);
  }
  return tree;
}

/** Resident memory of a process and its descendants together, in MB. */
export function treeResidentMb(pid: number): number | undefined {
  const sizes = processTree(pid).map((p) => residentMb(p));
  return sizes[0] === undefined ? undefined : sizes.reduce<number>((sum, mb) => sum + (mb ?? 0), 0);
}

/** Samples a process's resident memory every `everyMs` until stopped. */
export class RssSampler {
  readonly samples: Array<{ atMs: number; mb: number }> = [];
  private readonly timer: NodeJS.Timeout;
  private readonly started = performance.now();
  /** Highest VmHWM (peak resident) seen: catches peaks between samples. */
  peakMb = 0;
  /**
   * Highest anonymous (heaps, SQLite's page caches) and file-backed (mapped store and code) parts seen,
   * each on its own; undefined for a process tree. The kernel can take file pages back under pressure,
   * not anonymous ones.
   */
  readonly peakParts: { anon: number; file: number } | undefined;

  /** `tree`: the process and its descendants together (their peaks do not add up: samples only). */
  constructor(
    private readonly pid: number,
    everyMs = 100,
    private readonly tree = false,
  ) {
    this.peakParts = tree ? undefined : { anon: 0, file: 0 };
    this.timer = setInterval(() => this.sample(), everyMs);
    this.sample();
  }

  private sample(): void {
    if (this.tree) {
      const mb = treeResidentMb(this.pid);
      if (mb !== undefined) this.record(mb, 0);
      return;
    }
    const memory = memoryMb(this.pid);
    if (memory?.VmRSS === undefined) return;
    this.record(memory.VmRSS, memory.VmHWM ?? 0);
    if (this.peakParts) {
      this.peakParts.anon = Math.max(this.peakParts.anon, memory.RssAnon ?? 0);
      this.peakParts.file = Math.max(this.peakParts.file, memory.RssFile ?? 0);
    }
  }

  private record(mb: number, highWaterMb: number): void {
    this.samples.push({ atMs: performance.now() - this.started, mb });
    this.peakMb = Math.max(this.peakMb, mb, highWaterMb);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Resident memory at a fraction of the sampled time span (0.5: half-way). */
  at(fraction: number): number | undefined {
    if (this.samples.length === 0) return undefined;
    const last = this.samples.at(-1)?.atMs ?? 0;
    return this.samples.find((s) => s.atMs >= last * fraction)?.mb;
  }

  max(): number {
    return this.samples.reduce((m, s) => Math.max(m, s.mb), 0);
  }
}

export interface Spawned {
  readonly child: ChildProcess;
  readonly exited: Promise<number>;
  output(): string;
}

export function start(command: string, args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): Spawned {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 100_000) output = output.slice(-50_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
  return { child, exited, output: () => output };
}

/** Runs a command to completion; throws with its output when it fails. */
export async function run(command: string, args: string[], options: { env?: Record<string, string>; cwd?: string } = {}) {
  const p = start(command, args, options);
  const code = await p.exited;
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${code}:\n${p.output()}`);
  return p.output();
}

export async function stop(p: Spawned): Promise<void> {
  if (p.child.exitCode !== null) return;
  p.child.kill('SIGTERM');
  const timeout = sleep(5000).then(() => 'timeout' as const);
  if ((await Promise.race([p.exited, timeout])) === 'timeout') {
    p.child.kill('SIGKILL');
    await p.exited;
  }
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** Waits until `url` answers any HTTP status, or the process exits. */
export async function waitForHttp(url: string, p: Spawned, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (p.child.exitCode !== null) throw new Error(`process exited before listening:\n${p.output()}`);
    try {
      await fetch(url);
      return;
    } catch {
      await sleep(100);
    }
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms:\n${p.output()}`);
}
