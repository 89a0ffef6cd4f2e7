/** The two CBOT APIs: On-Premises (`{base}v1/messages`) and Cloud (`{base}messages`, `messaging_product` in the body). */
export type CbotApi = 'onprem' | 'cloud';

/** The path, under the channel's base URL, that sends a message. */
export function messagesPath(api: CbotApi): string {
  return api === 'cloud' ? 'messages' : 'v1/messages';
}

/**
 * The body as the API wants it. On-Premises: exactly as the caller gave it. Cloud: with
 * `"messaging_product":"whatsapp"` first unless the caller set it, and `opaque` (the relay id) as
 * `biz_opaque_callback_data` unless the caller set one — Cloud returns it in every status of the
 * message, which is how an attempt whose answer was lost is recognised (docs/resilience.md); a
 * caller's own value is kept, since its statuses are the caller's to read. The rest of the caller's
 * text is kept byte for byte (no re-serialising). `body` is a validated JSON object.
 */
export function messageBody(api: CbotApi, body: string, opaque?: string): string {
  if (api !== 'cloud') return body;
  const parsed = JSON.parse(body) as Record<string, unknown>;
  let head = '';
  if (!Object.hasOwn(parsed, 'messaging_product')) head += '"messaging_product":"whatsapp",';
  if (opaque !== undefined && !Object.hasOwn(parsed, 'biz_opaque_callback_data')) head += `"biz_opaque_callback_data":${JSON.stringify(opaque)},`;
  if (head === '') return body;
  const open = body.indexOf('{');
  // An empty object gets no trailing comma.
  const rest = body.slice(open + 1);
  return /^\s*}/.test(rest) ? `{${head.slice(0, -1)}${rest}` : `{${head}${rest}`;
}

/**
 * The request that marks an inbound message read. On-Premises: `PUT {base}v1/messages/{wamid}` with
 * `{"status":"read"}`; it has no typing indicator, so `typing` is not sent there. Cloud: `POST
 * {base}messages` with `message_id`, and `typing_indicator` when `typing` is asked.
 */
export function markReadRequest(api: CbotApi, wamid: string, typing: boolean): { method: 'PUT' | 'POST'; path: string; body: string } {
  if (api !== 'cloud') return { method: 'PUT', path: `v1/messages/${encodeURIComponent(wamid)}`, body: '{"status":"read"}' };
  const body = { messaging_product: 'whatsapp', status: 'read', message_id: wamid, ...(typing ? { typing_indicator: { type: 'text' } } : {}) };
  return { method: 'POST', path: 'messages', body: JSON.stringify(body) };
}
