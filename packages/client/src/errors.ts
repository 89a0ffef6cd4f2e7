import type { ErrorBody } from './spec-types.js';

type ErrorDetails = NonNullable<ErrorBody['error']['details']>;

/** The relay refused the request: its HTTP status and error body (`code`, `message`, `details`). */
export class RelayError extends Error {
  override name = 'RelayError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetails = [],
    /** From `Retry-After`, when the relay sent one. */
    readonly retryAfterMs?: number,
  ) {
    super(`${status} ${code}: ${message}`);
  }
}

/** `waitFor` ran out of time; `last` is the record as last seen. */
export class RelayTimeoutError extends Error {
  override name = 'RelayTimeoutError';
  constructor(
    message: string,
    readonly last?: unknown,
  ) {
    super(message);
  }
}

/** Reads an answer's error body; an answer without one (a proxy's page) still becomes a RelayError. */
export async function errorFrom(res: { status: number; text(): Promise<string> }, retryAfterMs: number | undefined): Promise<RelayError> {
  let body: Partial<ErrorBody> | undefined;
  try {
    body = JSON.parse(await res.text()) as Partial<ErrorBody>;
  } catch {
    body = undefined;
  }
  const e = body?.error;
  return new RelayError(res.status, e?.code ?? 'http_error', e?.message ?? `HTTP ${res.status}`, e?.details ?? [], retryAfterMs);
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null) return undefined;
  const v = header.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
