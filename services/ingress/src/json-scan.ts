/** WhatsApp payloads nest 6–8 levels; anything far deeper is hostile and would blow recursive code later. */
export const MAX_JSON_DEPTH = 64;

/** Keys that mean something to JavaScript objects; a message or callback has no business carrying them. */
const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** A key JSON.parse would silently resolve (a duplicate: the last one wins) or that is reserved. */
export interface JsonKeyIssue {
  /** Dotted path of the key, array indices as numbers (`messages.0.text`), as field issues are named. */
  path: string;
  message: 'duplicate key' | 'reserved key';
}

export interface JsonScan {
  /** Deepest nesting seen; scanning stops once it passes the limit. */
  depth: number;
  /** The first duplicate or reserved key, if any. */
  keyIssue: JsonKeyIssue | undefined;
}

/** Past this many keys an object's keys go into a Set, so a 100,000-key body stays linear. */
const LINEAR_KEYS = 8;

/**
 * One pass over JSON text, before JSON.parse: nesting depth, and the first key JSON.parse would
 * resolve silently (a duplicate) or that is reserved (`__proto__`, `constructor`, `prototype`). The
 * relay forwards the caller's bytes, so a body CBOT might read differently from us must not pass.
 * The text is not validated here (JSON.parse does that); on broken input the answer is whatever was
 * seen, and the scan always ends. Strings are skipped with indexOf, so long values cost little, and
 * the per-level state is reused, so an object costs no allocation beyond its key list.
 */
export function scanJson(text: string, limit = MAX_JSON_DEPTH): JsonScan {
  const s = limit === MAX_JSON_DEPTH ? (shared ??= new ScanState(limit)) : new ScanState(limit);
  try {
    return scan(s, text, limit);
  } finally {
    s.release();
  }
}

/** The default-limit state, reused: the scan is synchronous, and typed arrays cost more to make than to scan a message. */
let shared: ScanState | undefined;

function scan(s: ScanState, text: string, limit: number): JsonScan {
  let max = 0;
  let keyIssue: JsonKeyIssue | undefined;
  let expectKey = false;
  let d = 0; // current depth; level d's state is at index d
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const end = stringEnd(text, i + 1);
      if (end < 0) break;
      if (expectKey && d > 0 && s.object[d] === 1) {
        expectKey = false;
        const key = readKey(text, i + 1, end);
        s.key[d] = key;
        if (keyIssue === undefined) keyIssue = s.check(d, key);
      }
      i = end;
    } else if (c === 0x7b || c === 0x5b) {
      if (++d > max) max = d;
      if (max > limit) return { depth: max, keyIssue };
      const object = c === 0x7b;
      s.open(d, object);
      expectKey = object;
    } else if (c === 0x7d || c === 0x5d) {
      if (d > 0) d--;
      expectKey = false;
    } else if (c === 0x2c && d > 0) {
      if (s.object[d] === 1) expectKey = true;
      else s.index[d]!++;
    }
  }
  return { depth: max, keyIssue };
}

/** Per nesting level: object or array, current key or index, keys seen (a list, a Set past LINEAR_KEYS). */
class ScanState {
  readonly object: Uint8Array;
  readonly index: Int32Array;
  readonly key: string[] = [];
  readonly #lists: string[][] = [];
  readonly #sets: (Set<string> | undefined)[] = [];

  constructor(limit: number) {
    this.object = new Uint8Array(limit + 2);
    this.index = new Int32Array(limit + 2);
  }

  /** Drops every key seen: a key slice can keep the whole body's text alive until the next scan. */
  release(): void {
    for (let l = 0; l < this.key.length; l++) this.key[l] = '';
    for (const list of this.#lists) if (list !== undefined) list.length = 0;
    this.#sets.length = 0;
  }

  open(d: number, object: boolean): void {
    this.object[d] = object ? 1 : 0;
    this.index[d] = 0;
    this.key[d] = '';
    if (object) {
      const list = this.#lists[d];
      if (list === undefined) this.#lists[d] = [];
      else list.length = 0;
      this.#sets[d] = undefined;
    }
  }

  check(d: number, key: string): JsonKeyIssue | undefined {
    if (RESERVED_KEYS.has(key)) return { path: this.path(d), message: 'reserved key' };
    const set = this.#sets[d];
    if (set !== undefined) {
      if (set.has(key)) return { path: this.path(d), message: 'duplicate key' };
      set.add(key);
      return undefined;
    }
    const list = this.#lists[d]!;
    if (list.includes(key)) return { path: this.path(d), message: 'duplicate key' };
    list.push(key);
    if (list.length > LINEAR_KEYS) this.#sets[d] = new Set(list);
    return undefined;
  }

  /** The path as an error detail may show it: segments cut at 64 chars, control and non-ASCII chars as `?`. */
  path(d: number): string {
    const parts: string[] = [];
    for (let l = 1; l <= d; l++) {
      if (this.object[l] !== 1) {
        parts.push(String(this.index[l]));
        continue;
      }
      const k = (this.key[l] ?? '').replace(/[^\x20-\x7e]/g, '?');
      parts.push(k.length > 64 ? `${k.slice(0, 64)}…` : k);
    }
    return parts.join('.');
  }
}

/** Index of the quote that closes the string whose content starts at `from`, or -1. */
function stringEnd(text: string, from: number): number {
  let j = from;
  for (;;) {
    const q = text.indexOf('"', j);
    if (q < 0) return -1;
    let slashes = 0;
    for (let k = q - 1; k >= from && text.charCodeAt(k) === 0x5c; k--) slashes++;
    if (slashes % 2 === 0) return q;
    j = q + 1;
  }
}

/** The key as JSON.parse will see it: escapes (`"\u0061"` is `"a"`) decoded, which is rare and slower. */
function readKey(text: string, start: number, end: number): string {
  const raw = text.slice(start, end);
  if (raw.indexOf('\\') < 0) return raw;
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw; // broken escape: JSON.parse of the whole body refuses it
  }
}
