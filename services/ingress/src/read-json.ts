import { HttpError } from './http-error.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** WhatsApp payloads nest 6–8 levels; anything far deeper is hostile and would blow recursive code later. */
export const MAX_JSON_DEPTH = 64;

/** Deepest bracket nesting in JSON text, ignoring brackets inside strings. Stops counting past `limit`. */
export function jsonDepth(text: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped char
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) max = depth;
      if (max > limit) return max;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

/** Decodes strictly (invalid UTF-8 is an error, not U+FFFD) and parses; never echoes the input. */
export function readJson(raw: unknown): { text: string; value: unknown } {
  if (!Buffer.isBuffer(raw) || raw.length === 0) throw new HttpError(400, 'invalid_json', 'request body must be a JSON document');
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    throw new HttpError(400, 'invalid_utf8', 'request body is not valid UTF-8');
  }
  if (jsonDepth(text) > MAX_JSON_DEPTH) {
    throw new HttpError(400, 'too_deep', `request body nests deeper than ${MAX_JSON_DEPTH} levels`);
  }
  try {
    return { text, value: JSON.parse(text) as unknown };
  } catch {
    throw new HttpError(400, 'invalid_json', 'request body is not valid JSON');
  }
}

export function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const type = header.split(';')[0]?.trim().toLowerCase() ?? '';
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}
