import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { NamedKey } from '@cbot-relay/config';
import { HttpError } from './http-error.js';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * API keys compared in constant time: both sides are hashed to 32 bytes first (so lengths never
 * differ) and every configured key is compared, match or not.
 */
export class KeyRing {
  readonly #keys: { name: string; digest: Buffer }[];

  constructor(keys: NamedKey[]) {
    this.#keys = keys.map((k) => ({ name: k.name, digest: digest(k.key) }));
  }

  get empty(): boolean {
    return this.#keys.length === 0;
  }

  /** The caller's name for a presented key, or undefined. */
  match(presented: string): string | undefined {
    const d = digest(presented);
    let found: string | undefined;
    for (const k of this.#keys) {
      if (timingSafeEqual(d, k.digest) && found === undefined) found = k.name;
    }
    return found;
  }

  /** HMAC-SHA256 of `data` keyed by the named key's digest, or undefined when no key has that name (names are not secret). */
  mac(name: string, data: string): Buffer | undefined {
    const k = this.#keys.find((e) => e.name === name);
    return k && createHmac('sha256', k.digest).update(data, 'utf8').digest();
  }
}

export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

/** The password of `Authorization: Basic …` (the user name is ignored), or undefined when the header is not Basic. */
export function basicPassword(header: string | undefined): string | undefined {
  const m = header === undefined ? null : /^Basic[ ]+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m?.[1]) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

/** Constant-time check of `Authorization: Basic …` against one user/password pair. */
export function basicMatches(header: string | undefined, user: string, pass: string): boolean {
  const m = header === undefined ? null : /^Basic[ ]+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  const presented = m?.[1] ? Buffer.from(m[1], 'base64').toString('utf8') : '';
  return timingSafeEqual(digest(presented), digest(`${user}:${pass}`)) && m !== null;
}

/**
 * Node keeps the first of repeated Authorization headers and silently drops the others, while a proxy
 * in front may have checked another one; a request carrying two is refused rather than guessed at.
 */
export function requireSingleAuthorization(rawHeaders: readonly string[]): void {
  let seen = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length === 13 && name.toLowerCase() === 'authorization' && ++seen > 1) {
      throw new HttpError(400, 'invalid_header', 'Authorization must appear once', [{ path: 'Authorization', message: 'repeated' }]);
    }
  }
}
