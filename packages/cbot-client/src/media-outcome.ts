/** The relay's error codes for media calls that failed at CBOT (each listed in packages/api's ERROR_CODES). */
export type MediaFailureCode =
  | 'media_not_found'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'cbot_throttled'
  | 'cbot_auth'
  | 'cbot_rejected'
  | 'cbot_error'
  | 'cbot_unreachable'
  | 'cbot_timeout';

/**
 * Every way a media call to CBOT can fail, decided once, as the relay answers it: the HTTP status the
 * caller gets, an error code and a message. The ingress only writes it out.
 */
export interface MediaFailure {
  ok: false;
  status: 400 | 404 | 413 | 415 | 429 | 502 | 504;
  code: MediaFailureCode;
  message: string;
  /** CBOT's Retry-After, passed on with a 429. */
  retryAfter?: string;
}

/** CBOT's answer to a media call that was not a success. */
export function classifyMediaAnswer(status: number, body: unknown, retryAfter?: string): MediaFailure {
  const said = cbotMessage(body);
  const detail = said === undefined ? `HTTP ${status}` : `HTTP ${status}: ${said}`;
  if (status === 404 || isGraphNotFound(body)) return { ok: false, status: 404, code: 'media_not_found', message: 'CBOT has no media with this id' };
  if (status === 413) return { ok: false, status: 413, code: 'payload_too_large', message: `CBOT refused the file as too large (${detail})` };
  if (status === 415) return { ok: false, status: 415, code: 'unsupported_media_type', message: `CBOT refused the media type (${detail})` };
  if (status === 429) {
    return { ok: false, status: 429, code: 'cbot_throttled', message: `CBOT is throttling media calls (${detail})`, ...(retryAfter ? { retryAfter } : {}) };
  }
  if (status === 401 || status === 403) return { ok: false, status: 502, code: 'cbot_auth', message: `CBOT refused the relay's key for this channel (${detail})` };
  if (status === 400) return { ok: false, status: 400, code: 'cbot_rejected', message: `CBOT refused the request (${detail})` };
  return { ok: false, status: 502, code: 'cbot_error', message: `CBOT failed (${detail})` };
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);

/** A media call that got no answer: a timeout is 504, anything else (refused, reset, DNS) 502. */
export function classifyMediaNetworkError(err: unknown): MediaFailure {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e && typeof e === 'object'; depth++) {
    const { code, name } = e as { code?: unknown; name?: unknown };
    if ((typeof code === 'string' && TIMEOUT_CODES.has(code)) || name === 'TimeoutError') {
      return { ok: false, status: 504, code: 'cbot_timeout', message: 'CBOT did not answer in time' };
    }
    if (typeof code === 'string') return { ok: false, status: 502, code: 'cbot_unreachable', message: `CBOT could not be reached (${code})` };
    e = (e as { cause?: unknown }).cause;
  }
  return { ok: false, status: 502, code: 'cbot_unreachable', message: 'CBOT could not be reached' };
}

/** The first human-readable text in an On-Premises (`errors[]`) or Graph (`error`) body, at most 200 characters. */
function cbotMessage(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as { errors?: unknown; error?: unknown };
  const first = Array.isArray(b.errors) ? (b.errors[0] as Record<string, unknown> | undefined) : (b.error as Record<string, unknown> | undefined);
  if (typeof first !== 'object' || first === null) return undefined;
  const text = [first.details, first.title, first.message].find((v) => typeof v === 'string') as string | undefined;
  return text?.slice(0, 200);
}

/** The Graph API answers an unknown object id with 400, code 100, subcode 33. */
function isGraphNotFound(body: unknown): boolean {
  const e = (body as { error?: { code?: unknown; error_subcode?: unknown } } | null)?.error;
  return typeof e === 'object' && e !== null && e.code === 100 && e.error_subcode === 33;
}
