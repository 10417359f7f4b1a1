/** The report of `fis check` as text: one line per check with what it saw, its notes indented below. */
import type { CheckReport, CheckStatus } from './check.types.js';
import { exitCodeOf } from './check.types.js';

const LABEL: Record<CheckStatus, string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', skip: 'SKIP' };

export function renderReport(report: CheckReport, strict: boolean): string {
  const lines: string[] = [];
  const who = report.otherWorker ? `${report.worker} (other worker ${report.otherWorker})` : report.worker;
  lines.push(`fis check ${report.target} as ${who}`);
  if (report.error !== undefined) {
    lines.push(`could not run: ${report.error}`);
    lines.push('exit 2: the check could not run');
    return `${lines.join('\n')}\n`;
  }
  const width = Math.max(...report.checks.map((c) => c.id.length));
  for (const c of report.checks) {
    lines.push(`${LABEL[c.status]}  ${c.id.padEnd(width)}  ${c.summary}`);
    for (const note of c.notes) lines.push(`${' '.repeat(width + 8)}- ${note}`);
  }
  const { pass, warn, fail, skip } = report.counts;
  lines.push('');
  lines.push(
    `${report.checks.length} checks: ${pass} passed, ${warn} warned, ${fail} failed, ${skip} skipped; ` +
      `${report.requests} requests in ${(report.durationMs / 1000).toFixed(1)} s`,
  );
  const code = exitCodeOf(report, strict);
  lines.push(
    code === 0
      ? `exit 0: nothing breaks the Frontline protocol${warn > 0 ? ' (warnings fail only with --strict)' : ''}`
      : fail > 0
        ? `exit 1: ${fail === 1 ? 'one check finds' : `${fail} checks find`} the protocol broken`
        : `exit 1: ${warn === 1 ? 'a warning' : `${warn} warnings`} (--strict)`,
  );
  return `${lines.join('\n')}\n`;
}
