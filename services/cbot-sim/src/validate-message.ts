export interface ValidMessage {
  to: string;
  type: string;
  body: Record<string, unknown>;
}

export type MessageCheck = { ok: true; message: ValidMessage } | { ok: false; details: string };

/**
 * Shallow check of a /v1/messages body, as much as the simulator needs: a JSON object with
 * string `to` and `type`, and the content under the key named by `type` (an array for
 * `contacts`, an object otherwise). Deep validation is the relay's job.
 */
export function validateMessage(raw: string): MessageCheck {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return { ok: false, details: 'body: not valid JSON' };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, details: 'body: must be a JSON object' };
  }
  const record = body as Record<string, unknown>;
  const { to, type } = record;
  if (typeof to !== 'string' || to.length === 0) return { ok: false, details: 'to: must be a non-empty string' };
  if (typeof type !== 'string' || type.length === 0) {
    return { ok: false, details: 'type: must be a non-empty string' };
  }
  const content = Object.hasOwn(record, type) ? record[type] : undefined;
  const wantArray = type === 'contacts';
  if (typeof content !== 'object' || content === null || Array.isArray(content) !== wantArray) {
    return { ok: false, details: `${type}: must be ${wantArray ? 'an array' : 'an object'} matching type` };
  }
  return { ok: true, message: { to, type, body: record } };
}
