import type { z } from 'zod';

/** One reason a body was refused: `path` in dot notation (`contacts.0.name.formatted_name`), `""` for the body itself. */
export type FieldIssue = { path: string; message: string };

export function toFieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
}

/**
 * Per-parse error map: short messages that name the expected shape but never
 * the received value, because bodies carry customer data and issues get logged.
 * Messages set on a schema (refinements, the `type` discriminator) take precedence.
 */
export function issueMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? 'required' : `expected ${issue.expected}, got ${kindOf(issue.input)}`;
    case 'too_small':
      return bound('at least', issue.origin, Number(issue.minimum));
    case 'too_big':
      return bound('at most', issue.origin, Number(issue.maximum));
    case 'invalid_value':
      return `must be one of: ${issue.values.map(String).join(', ')}`;
    default:
      return undefined;
  }
}

function bound(relation: string, origin: string, limit: number): string | undefined {
  if (origin === 'string') return limit === 1 && relation === 'at least' ? 'must not be empty' : `must be ${relation} ${limit} characters`;
  if (origin === 'array') return `must have ${relation} ${limit} item${limit === 1 ? '' : 's'}`;
  if (origin === 'number') return `must be ${relation} ${limit}`;
  return undefined;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'array' : typeof value;
}
