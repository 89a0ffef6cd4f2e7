import { CbotSendSuccess, NUMBER_PROTECTION, extractCbotErrors } from '@cbot-relay/messages';
import type { CbotError, NumberProtection } from '@cbot-relay/messages';

export interface SendError {
  message: string;
  code?: number;
  title?: string;
  details?: string;
}

/** Every way a send can end, decided once here; the dispatcher only switches on `kind`. */
export type SendOutcome =
  | { kind: 'sent'; wamid: string; httpStatus: number }
  /** CBOT asked us to slow down (the sender, or this recipient): do not spend the message's attempts. */
  | { kind: 'throttled'; scope: ThrottleScope; httpStatus?: number; retryAfterMs?: number; error: SendError }
  /** Worth another attempt. `ambiguous`: the request may have reached CBOT (its answer was lost). */
  | { kind: 'retryable'; httpStatus?: number; retryAfterMs?: number; ambiguous: boolean; error: SendError }
  /**
   * WhatsApp restricted the number: `quality` (131048) pauses the channel for QUALITY_PAUSE_S, `stop`
   * (368, 131031) stops it until an operator resumes it. The message is not failed and no attempt is spent.
   */
  | { kind: 'restricted'; action: RestrictAction; httpStatus?: number; retryAfterMs?: number; error: SendError }
  | { kind: 'permanent'; httpStatus: number; error: SendError };

export type RestrictAction = 'quality' | 'stop';

/** Who a throttle is about: one recipient (pair rate limit), or the whole sending number. */
export type ThrottleScope = 'recipient' | 'sender';

export type CodePolicy = { kind: 'throttled'; scope: ThrottleScope } | { kind: 'restricted'; action: RestrictAction } | { kind: 'retryable' };

const PROTECTION_POLICY: Record<NumberProtection, CodePolicy> = {
  pair: { kind: 'throttled', scope: 'recipient' },
  throughput: { kind: 'throttled', scope: 'sender' },
  quality: { kind: 'restricted', action: 'quality' },
  stop: { kind: 'restricted', action: 'stop' },
};

/**
 * The retry policy by WhatsApp error code, whatever the HTTP status (Cloud sends throttling with
 * 400). Throttles and restrictions never spend the message's attempts: a sender-wide throttle pauses
 * the channel in every dispatcher, a recipient one holds only that recipient, 131048 pauses the
 * channel for QUALITY_PAUSE_S and 368 / 131031 stop it (NUMBER_PROTECTION in @cbot-relay/messages).
 * Codes not listed here are permanent (HTTP 408, 429 and 5xx without a listed code are handled by
 * status in classifyResponse).
 */
export const CODE_POLICY: ReadonlyMap<number, CodePolicy> = new Map<number, CodePolicy>([
  // 131056 pair rate limit; 4 app call limit, 80007 WABA rate limit, 130429 throughput, On-Premises
  // 1015 too many requests; 131048 spam rate limit; 368 restricted, 131031 account locked.
  ...[...NUMBER_PROTECTION].map(([code, p]): [number, CodePolicy] => [code, PROTECTION_POLICY[p]]),
  // 1 / 2 unknown / temporary API errors, 131000 something went wrong, 131016 service unavailable,
  // 133004 server temporarily unavailable, On-Premises 1011 not ready, 1014 internal, 1016 overloaded, 1023 database.
  ...[1, 2, 131000, 131016, 133004, 1011, 1014, 1016, 1023].map((code): [number, CodePolicy] => [code, { kind: 'retryable' }]),
]);

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

/** Every way marking a message read can end: `read` (CBOT took it, any 2xx), or a send's refusals. */
export type ReadOutcome = { kind: 'read'; httpStatus: number } | Exclude<SendOutcome, { kind: 'sent' }>;

/** A mark-read answer: any 2xx is done (there is no message id to read); the rest as for a send, by WhatsApp code. */
export function classifyReadResponse(httpStatus: number, body: unknown, retryAfterMs: number | undefined): ReadOutcome {
  if (httpStatus >= 200 && httpStatus < 300) return { kind: 'read', httpStatus };
  const outcome = classifyResponse(httpStatus, body, retryAfterMs);
  // Not reachable (a non-2xx is never `sent`); keeps the type exact.
  return outcome.kind === 'sent' ? { kind: 'read', httpStatus } : outcome;
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
  const policies = errors.map((e) => CODE_POLICY.get(e.code)).filter((p) => p !== undefined);
  // A restriction next to anything else wins, a stop over a quality pause.
  const restricted = policies.filter((p) => p.kind === 'restricted');
  if (restricted.length > 0) {
    const action = restricted.some((p) => p.action === 'stop') ? 'stop' : 'quality';
    return { kind: 'restricted', action, httpStatus, retryAfterMs, error };
  }
  const throttles = policies.filter((p) => p.kind === 'throttled');
  if (throttles.length > 0) {
    // A sender-wide code next to a pair one: the wider scope wins.
    const scope = throttles.some((p) => p.scope === 'sender') ? 'sender' : 'recipient';
    return { kind: 'throttled', scope, httpStatus, retryAfterMs, error };
  }
  if (policies.length > 0) return { kind: 'retryable', httpStatus, retryAfterMs, ambiguous: false, error };
  if (httpStatus === 429) return { kind: 'throttled', scope: 'sender', httpStatus, retryAfterMs, error };
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
