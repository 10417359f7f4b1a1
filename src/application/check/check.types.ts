/**
 * `fis check`: the shapes of its options and of its report (text and --json).
 * The report is a contract for machines: ids and fields only ever get added.
 */

/** pass: conforms; warn: close to a limit or lenient; fail: breaks the protocol; skip: could not be checked. */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  /** Stable id, e.g. `list-walk` (docs/check.md lists every one). */
  readonly id: string;
  readonly title: string;
  readonly status: CheckStatus;
  /** One line: what the check saw. */
  readonly summary: string;
  /** What went wrong or is worth knowing, one finding a line (at most a few examples each). */
  readonly notes: readonly string[];
}

export interface CheckPaths {
  readonly crm: string;
  readonly outgoing: string;
  readonly templates: string;
}

/** The reference implementation's paths (twilio/frontline-demo-service), which ours keeps. */
export const DEFAULT_PATHS: CheckPaths = {
  crm: '/callbacks/crm',
  outgoing: '/callbacks/outgoing-conversation',
  templates: '/callbacks/templates',
};

/** Frontline's limits (Twilio errors 48003 and 48005) and the margins that earn a warning. */
export const LIMITS = {
  replyBytes: 64 * 1024,
  replyBytesWarning: 48 * 1024,
  replyMs: 6000,
  /** The page size the app asks for. */
  appPageSize: 30,
} as const;

/** Defaults of the options `fis check` takes (its --help shows them). */
export const CHECK_DEFAULTS = {
  paths: DEFAULT_PATHS,
  timeLimitMs: LIMITS.replyMs,
  listLimit: 3000,
  walkLimit: 200,
  detailsSample: 30,
} as const;

export interface CheckOptions {
  /** The service's public base URL, as configured in Twilio (what requests are signed for). */
  readonly baseUrl: string;
  readonly authToken: string;
  readonly worker: string;
  readonly otherWorker?: string | undefined;
  readonly paths: CheckPaths;
  /** A reply slower than this breaks the protocol (48005); over half of it earns a warning. Default 6000. */
  readonly timeLimitMs: number;
  /** The walks with PageSize 1 stop after this many customers (each customer costs one request). */
  readonly walkLimit: number;
  /** The app-style walks stop after this many customers. */
  readonly listLimit: number;
  /** How many customers' details are fetched and validated (spread over the list). */
  readonly detailsSample: number;
}

export interface CheckReport {
  readonly tool: 'fis check';
  readonly target: string;
  readonly worker: string;
  readonly otherWorker?: string | undefined;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly requests: number;
  /** Why the check could not run (exit code 2); absent when it ran. */
  readonly error?: string;
  readonly checks: readonly CheckResult[];
  readonly counts: Readonly<Record<CheckStatus, number>>;
}

/** 0: nothing breaks the protocol; 1: something does (or, with `strict`, something warns); 2: the check could not run. */
export function exitCodeOf(report: CheckReport, strict: boolean): 0 | 1 | 2 {
  if (report.error !== undefined) return 2;
  if (report.counts.fail > 0) return 1;
  if (strict && report.counts.warn > 0) return 1;
  return 0;
}
