/** Runs the real `fis` command line in a child process. */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const ROOT = path.resolve(import.meta.dirname, '../..');
export const CLI = ['--import', import.meta.resolve('tsx'), path.join(ROOT, 'src/transports/cli/main.ts')];
/** An empty working directory, so that a developer's own ./.env or ./data never leaks into a test. */
const EMPTY_CWD = mkdtempSync(path.join(tmpdir(), 'fis-cli-'));

/** A CLI process's environment: only what it needs and `env`, so that nothing of the test runner's leaks in. */
const cliEnv = (env: Record<string, string>) => ({ PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', ...env });

export function runCli(args: string[], env: Record<string, string> = {}, cwd = EMPTY_CWD): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI, ...args], { cwd, env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    // Decode as streams: a multi-byte character split across two chunks must not become two U+FFFD.
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A `fis` command running in its own process (startCli), for a test to watch or kill while it works. */
export interface CliProcess {
  /** Resolves when it exits, with its code or the signal that ended it. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Whether it has exited. */
  done(): boolean;
  /** What it printed on stderr so far. */
  stderr(): string;
  kill(signal: NodeJS.Signals): void;
}

/** Starts `fis …args` and returns at once (runCli waits for it). */
export function startCli(args: string[], env: Record<string, string> = {}, cwd = EMPTY_CWD): CliProcess {
  const child = spawn(process.execPath, [...CLI, ...args], { cwd, env: cliEnv(env), stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let done = false;
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    }),
  );
  return { exited, done: () => done, stderr: () => stderr, kill: (signal) => child.kill(signal) };
}

export interface ServeProcess {
  url: string;
  pid: number;
  /** Everything it printed so far. */
  output(): string;
  /** Resolves with its exit code when it exits. */
  readonly exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** Starts `fis serve` in its own process on a free port; resolves when it listens. */
export function serveProcess(env: Record<string, string>, args: string[] = []): Promise<ServeProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI, 'serve', ...args], {
      cwd: EMPTY_CWD,
      // No PUBLIC_URL: requests come from this machine, a trusted proxy, and are signed for the URL they are sent to.
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HOST: '127.0.0.1', PORT: '0', TRUSTED_PROXIES: 'loopback', ...env, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`fis serve did not start:\n${output}`));
    }, 60_000); // a loaded 2-core machine can take well over 20 s to load and start it
    const onData = (d: Buffer) => {
      output += d;
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (!match) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.stdout.on('data', (more: Buffer) => (output += more));
      resolve({
        url: match[1] as string,
        pid: child.pid as number,
        output: () => output,
        exited,
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (d) => (output += d));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`fis serve exited with ${code}:\n${output}`));
    });
  });
}
