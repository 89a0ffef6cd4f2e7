import { HttpError } from './http-error.js';
import type { JsonKeyIssue } from './json-scan.js';
import { MAX_JSON_DEPTH, scanJson } from './json-scan.js';

export { MAX_JSON_DEPTH } from './json-scan.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Deepest bracket nesting in JSON text, ignoring brackets inside strings. Stops counting past `limit`. */
export function jsonDepth(text: string, limit = MAX_JSON_DEPTH): number {
  return scanJson(text, limit).depth;
}

export interface ReadJsonOptions {
  /**
   * `reject` (the send API): a duplicate key anywhere, or `__proto__`/`constructor`/`prototype` as a
   * key, is a 400 naming its path — the bytes are forwarded as sent, so they must mean one thing.
   * `report` (CBOT callbacks): such a body is kept and the issue returned, since refusing a callback
   * would lose it once CBOT stops retrying.
   */
  keys?: 'reject' | 'report';
}

export interface ReadJson {
  text: string;
  value: unknown;
  /** Only with `keys: 'report'`: the first duplicate or reserved key. */
  keyIssue?: JsonKeyIssue;
}

/** Decodes strictly (invalid UTF-8 is an error, not U+FFFD) and parses; never echoes the input. */
export function readJson(raw: unknown, opts: ReadJsonOptions = {}): ReadJson {
  if (!Buffer.isBuffer(raw) || raw.length === 0) throw new HttpError(400, 'invalid_json', 'request body must be a JSON document');
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    throw new HttpError(400, 'invalid_utf8', 'request body is not valid UTF-8');
  }
  const scan = scanJson(text);
  if (scan.depth > MAX_JSON_DEPTH) {
    throw new HttpError(400, 'too_deep', `request body nests deeper than ${MAX_JSON_DEPTH} levels`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, 'invalid_json', 'request body is not valid JSON');
  }
  const issue = scan.keyIssue;
  if (issue === undefined) return { text, value };
  if (opts.keys === 'report') return { text, value, keyIssue: issue };
  throw new HttpError(
    400,
    'invalid_json',
    issue.message === 'duplicate key'
      ? 'request body has a duplicate key; JSON readers disagree on which one counts'
      : 'request body uses __proto__, constructor or prototype as a key',
    [issue],
  );
}

export function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const type = header.split(';')[0]?.trim().toLowerCase() ?? '';
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}
