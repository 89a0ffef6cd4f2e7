import { CbotSendSuccess, extractCbotErrors } from '@cbot-relay/messages';
import type { CbotError } from '@cbot-relay/messages';

export interface SendError {
  message: string;
  code?: number;
  title?: string;
  details?: string;
}

/** Every way a send can end, decided once here; the dispatcher only switches on `kind`. */
export type SendOutcome =
  | { kind: 'sent'; wamid: string; httpStatus: number }
  /** CBOT asked us to slow down: pause everyone, do not spend the message's attempts. */
  | { kind: 'throttled'; httpStatus?: number; retryAfterMs?: number; error: SendError }
  /** Worth another attempt. `ambiguous`: the request may have reached CBOT (its answer was lost). */
  | { kind: 'retryable'; httpStatus?: number; retryAfterMs?: number; ambiguous: boolean; error: SendError }
  | { kind: 'permanent'; httpStatus: number; error: SendError };

/**
 * WhatsApp codes that mean "too fast", whatever the HTTP status (Cloud sends them with 400):
 * 4 app-level call limit, 80007 WABA rate limit, 130429 throughput, 131048 spam rate limit,
 * 131056 pair rate limit, On-Premises 1015 too many requests.
 */
export const THROTTLE_CODES: ReadonlySet<number> = new Set([4, 80007, 130429, 131048, 131056, 1015]);

/**
 * Transient server-side conditions: 1 / 2 unknown / temporary API errors, 131000 something went
 * wrong, 131016 service unavailable, 133004 server temporarily unavailable, On-Premises 1011 service
 * not ready, 1014 internal error, 1016 system overloaded, 1023 database error.
 */
export const TRANSIENT_CODES: ReadonlySet<number> = new Set([1, 2, 131000, 131016, 133004, 1011, 1014, 1016, 1023]);

/** Retry-After as seconds or an HTTP date, capped at one hour; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const v = value.trim();
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(v)) ms = Number(v) * 1000;
  else {
    const at = Date.parse(v);
    if (Number.isNaN(at)) return undefined;
    ms = at - nowMs;
  }
  return Math.min(Math.max(0, Math.round(ms)), 3_600_000);
}

export function classifyResponse(httpStatus: number, body: unknown, retryAfterMs: number | undefined): SendOutcome {
  if (httpStatus >= 200 && httpStatus < 300) {
    const ok = CbotSendSuccess.safeParse(body);
    if (ok.success) return { kind: 'sent', wamid: ok.data.messages[0]!.id, httpStatus };
    // Accepted but unreadable: resending could double the message, so stop and let an operator look.
    return { kind: 'permanent', httpStatus, error: { message: 'CBOT answered 2xx without a message id' } };
  }
  const errors = extractCbotErrors(body);
  const error = summarize(httpStatus, errors);
  if (errors.some((e) => THROTTLE_CODES.has(e.code))) return { kind: 'throttled', httpStatus, retryAfterMs, error };
  if (errors.some((e) => TRANSIENT_CODES.has(e.code))) return { kind: 'retryable', httpStatus, retryAfterMs, ambiguous: false, error };
  if (httpStatus === 429) return { kind: 'throttled', httpStatus, retryAfterMs, error };
  if (httpStatus === 408 || httpStatus >= 500) return { kind: 'retryable', httpStatus, retryAfterMs, ambiguous: false, error };
  return { kind: 'permanent', httpStatus, error };
}

function summarize(httpStatus: number, errors: CbotError[]): SendError {
  const first = errors[0];
  if (!first) return { message: `CBOT answered HTTP ${httpStatus}` };
  const out: SendError = { message: first.title ?? `CBOT error ${first.code}`, code: first.code };
  if (first.title !== undefined) out.title = first.title;
  if (first.details !== undefined) out.details = first.details;
  return out;
}

/** Errors raised before any byte reached CBOT: resending cannot double the message. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

export function classifyNetworkError(err: unknown): SendOutcome & { kind: 'retryable' } {
  const code = errorCode(err);
  const notSent = code !== undefined && NOT_SENT.has(code);
  return {
    kind: 'retryable',
    ambiguous: !notSent,
    error: { message: code ? `network error ${code}` : `network error: ${String((err as Error)?.message ?? err)}` },
  };
}

export function isNotSentError(err: unknown): boolean {
  const code = errorCode(err);
  return code !== undefined && NOT_SENT.has(code);
}

function errorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e && typeof e === 'object'; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
