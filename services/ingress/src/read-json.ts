import { HttpError } from './http-error.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes strictly (invalid UTF-8 is an error, not U+FFFD) and parses; never echoes the input. */
export function readJson(raw: unknown): { text: string; value: unknown } {
  if (!Buffer.isBuffer(raw) || raw.length === 0) throw new HttpError(400, 'invalid_json', 'request body must be a JSON document');
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    throw new HttpError(400, 'invalid_utf8', 'request body is not valid UTF-8');
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
