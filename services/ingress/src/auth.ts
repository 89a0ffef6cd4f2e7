import { createHash, timingSafeEqual } from 'node:crypto';
import type { NamedKey } from '@cbot-relay/config';

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
}

export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

/** Constant-time check of `Authorization: Basic …` against one user/password pair. */
export function basicMatches(header: string | undefined, user: string, pass: string): boolean {
  const m = header === undefined ? null : /^Basic[ ]+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  const presented = m?.[1] ? Buffer.from(m[1], 'base64').toString('utf8') : '';
  return timingSafeEqual(digest(presented), digest(`${user}:${pass}`)) && m !== null;
}
