import { timingSafeEqual } from 'node:crypto';
import type { KeyRing } from './auth.js';

/**
 * A browser that got the queue UI with credentials in the URL (`http://ops:<key>@host/admin/queues`)
 * does not send them again for the page's scripts and API calls (Chromium keeps URL credentials to
 * the navigation), so a successful login also sets this cookie, which authenticates the rest.
 * Value: `<key name>~<expiry, epoch s>~<HMAC-SHA256 under that admin key>`: no server-side state, the
 * same on every ingress replica, and void as soon as the key is removed or changed.
 */
export const SESSION_COOKIE = 'cbot_relay_queue_ui';
/** A login lasts 8 h; the browser's Basic credentials renew it. */
export const SESSION_TTL_S = 8 * 3600;

const payload = (name: string, exp: number) => `queue-ui~${name}~${exp}`;

export function sessionCookie(keys: KeyRing, name: string, nowMs: number, path: string, secure: boolean): string | undefined {
  const exp = Math.floor(nowMs / 1000) + SESSION_TTL_S;
  const mac = keys.mac(name, payload(name, exp));
  if (mac === undefined) return undefined;
  const attrs = [`Path=${path}`, `Max-Age=${SESSION_TTL_S}`, 'HttpOnly', 'SameSite=Strict', ...(secure ? ['Secure'] : [])];
  return [`${SESSION_COOKIE}=${name}~${exp}~${mac.toString('base64url')}`, ...attrs].join('; ');
}

/** The admin key's name a valid, unexpired session cookie carries, else undefined. */
export function sessionAdmin(keys: KeyRing, cookieHeader: string | undefined, nowMs: number): string | undefined {
  if (cookieHeader === undefined) return undefined;
  const m = new RegExp(`(?:^|;\\s*)${SESSION_COOKIE}=([A-Za-z0-9_.-]{1,64})~(\\d{1,12})~([A-Za-z0-9_-]{43})(?:;|$)`).exec(cookieHeader);
  if (!m) return undefined;
  const [, name, expText, macText] = m as unknown as [string, string, string, string];
  const exp = Number(expText);
  if (exp * 1000 <= nowMs) return undefined;
  const expected = keys.mac(name, payload(name, exp));
  const presented = Buffer.from(macText, 'base64url');
  return expected !== undefined && presented.length === expected.length && timingSafeEqual(presented, expected) ? name : undefined;
}
