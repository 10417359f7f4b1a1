/** Form pieces: a field's validation messages from the API's 400 problem list, next to the field. */
import type { ComponentChildren } from 'preact';
import type { FieldProblem } from '../api';

/** Problems for `field` exactly, or (with `prefix`) for anything inside it: `channels[0]` matches `channels[0].value`. */
export function problemsFor(problems: readonly FieldProblem[], field: string, prefix = false): FieldProblem[] {
  return problems.filter((p) => p.field === field || (prefix && (p.field.startsWith(`${field}.`) || p.field.startsWith(`${field}[`))));
}

export function FieldMessage({ problems, field, prefix = false }: { problems: readonly FieldProblem[]; field: string; prefix?: boolean }) {
  const mine = problemsFor(problems, field, prefix);
  if (mine.length === 0) return null;
  return (
    <span class="field-error" role="alert" data-field={field}>
      {mine.map((p) => (p.field === field || !prefix ? p.message : `${p.field.slice(field.length).replace(/^\./, '')}: ${p.message}`)).join('; ')}
    </span>
  );
}

/** Problems no input on the form shows (the record as a whole, or a field the form does not have). */
export function OtherProblems({ problems, shown }: { problems: readonly FieldProblem[]; shown: (field: string) => boolean }) {
  const rest = problems.filter((p) => !shown(p.field));
  if (rest.length === 0) return null;
  return (
    <ul class="form-problems" role="alert">
      {rest.map((p, i) => (
        <li key={i}>
          {p.field ? `${p.field}: ` : ''}
          {p.message}
        </li>
      ))}
    </ul>
  );
}

export function Notice({ tone = 'info', children }: { tone?: 'info' | 'error' | 'ok'; children: ComponentChildren }) {
  return (
    <div class={`notice notice-${tone}`} role={tone === 'error' ? 'alert' : 'status'}>
      {children}
    </div>
  );
}
