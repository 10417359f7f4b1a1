/** Child processes of the benchmark: how they are started, watched and stopped. */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** Resident memory of a process in MB (Linux /proc), or undefined when it is gone. */
export function residentMb(pid: number, field: 'VmRSS' | 'VmHWM' | 'RssAnon' | 'RssFile' = 'VmRSS'): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
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
   * each on its own (one process only): the kernel can take file pages back under pressure, not anonymous ones.
   */
  peakAnonMb = 0;
  peakFileMb = 0;

  /** `tree`: the process and its descendants together (their peaks do not add up: samples only). */
  constructor(
    private readonly pid: number,
    everyMs = 100,
    private readonly tree = false,
  ) {
    this.timer = setInterval(() => this.sample(), everyMs);
    this.sample();
  }

  private sample(): void {
    const mb = this.tree ? treeResidentMb(this.pid) : residentMb(this.pid);
    if (mb === undefined) return;
    this.samples.push({ atMs: performance.now() - this.started, mb });
    this.peakMb = Math.max(this.peakMb, mb, this.tree ? 0 : (residentMb(this.pid, 'VmHWM') ?? 0));
    if (this.tree) return;
    this.peakAnonMb = Math.max(this.peakAnonMb, residentMb(this.pid, 'RssAnon') ?? 0);
    this.peakFileMb = Math.max(this.peakFileMb, residentMb(this.pid, 'RssFile') ?? 0);
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
