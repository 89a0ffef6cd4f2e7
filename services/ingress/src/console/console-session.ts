import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { KeyRing } from '../auth.js';

/** The console's session cookie, scoped to /console. */
export const CONSOLE_COOKIE = 'cbot_relay_console';
/** A console sign-in lasts 8 h. */
export const CONSOLE_TTL_S = 8 * 3600;
export const CONSOLE_PATH = '/console';

export interface ConsoleSession {
  /** The admin key's name (RELAY_ADMIN_KEYS). */
  admin: string;
  /** Random per sign-in: what sign-out revokes and the CSRF token is derived from. */
  id: string;
  expMs: number;
  /** Goes into every form as a hidden field; a POST without it is refused. */
  csrf: string;
}

const b64 = (b: Buffer) => b.toString('base64url');

/**
 * The cookie's MAC: HMAC-SHA256 keyed by the admin key's digest (KeyRing.mac, as the queue UI's
 * session), then again under this relay's own secret (ConsoleSecret in Redis). Removing or changing
 * the admin key voids it; so does presenting it to another relay that has the same admin key.
 */
function mac(keys: KeyRing, secret: Buffer, name: string, exp: number, id: string): Buffer | undefined {
  const inner = keys.mac(name, `console~${name}~${exp}~${id}`);
  return inner && createHmac('sha256', secret).update(inner).digest();
}

function csrfOf(secret: Buffer, id: string, m: Buffer): string {
  return b64(createHmac('sha256', secret).update(`csrf~${id}~`).update(m).digest());
}

/**
 * `Secure` unless the browser talks plain HTTP to this machine (a developer's localhost), where a
 * Secure cookie would not be kept. Anywhere else plain HTTP gets a cookie the browser will not send
 * back: the console is for HTTPS.
 */
export function cookieSecure(encrypted: boolean, host: string | undefined): boolean {
  if (encrypted) return true;
  const name = (host ?? '').replace(/:\d+$/, '').toLowerCase();
  return !(name === 'localhost' || name === '127.0.0.1' || name === '[::1]' || name.endsWith('.localhost'));
}

const attrs = (maxAge: number, secure: boolean) => [`Path=${CONSOLE_PATH}`, `Max-Age=${maxAge}`, 'HttpOnly', 'SameSite=Strict', ...(secure ? ['Secure'] : [])].join('; ');

/** A new session for `admin`: its Set-Cookie value, or undefined when no admin key has that name. */
export function issueSession(keys: KeyRing, secret: Buffer, admin: string, nowMs: number, secure: boolean): { cookie: string; session: ConsoleSession } | undefined {
  const exp = Math.floor(nowMs / 1000) + CONSOLE_TTL_S;
  const id = b64(randomBytes(16));
  const m = mac(keys, secret, admin, exp, id);
  if (m === undefined) return undefined;
  return {
    cookie: `${CONSOLE_COOKIE}=${admin}~${exp}~${id}~${b64(m)}; ${attrs(CONSOLE_TTL_S, secure)}`,
    session: { admin, id, expMs: exp * 1000, csrf: csrfOf(secret, id, m) },
  };
}

export function clearedCookie(secure: boolean): string {
  return `${CONSOLE_COOKIE}=; ${attrs(0, secure)}`;
}

const COOKIE = new RegExp(`(?:^|;\\s*)${CONSOLE_COOKIE}=([A-Za-z0-9_.-]{1,64})~(\\d{1,12})~([A-Za-z0-9_-]{22})~([A-Za-z0-9_-]{43})(?:;|$)`);

/** The session a valid, unexpired cookie carries (not yet checked against sign-outs), else undefined. */
export function readSession(keys: KeyRing, secret: Buffer, cookieHeader: string | undefined, nowMs: number): ConsoleSession | undefined {
  const m = cookieHeader === undefined ? null : COOKIE.exec(cookieHeader);
  if (!m) return undefined;
  const [, admin, expText, id, macText] = m as unknown as [string, string, string, string, string];
  const exp = Number(expText);
  if (exp * 1000 <= nowMs) return undefined;
  const expected = mac(keys, secret, admin, exp, id);
  const presented = Buffer.from(macText, 'base64url');
  if (expected === undefined || presented.length !== expected.length || !timingSafeEqual(presented, expected)) return undefined;
  return { admin, id, expMs: exp * 1000, csrf: csrfOf(secret, id, expected) };
}

/** Constant-time comparison of a form's CSRF field with the session's token. */
export function csrfMatches(session: ConsoleSession, presented: unknown): boolean {
  if (typeof presented !== 'string') return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(session.csrf);
  return a.length === b.length && timingSafeEqual(a, b);
}
