/** The two CBOT APIs: On-Premises (`{base}v1/messages`) and Cloud (`{base}messages`, `messaging_product` in the body). */
export type CbotApi = 'onprem' | 'cloud';

/** The path, under the channel's base URL, that sends a message. */
export function messagesPath(api: CbotApi): string {
  return api === 'cloud' ? 'messages' : 'v1/messages';
}

/**
 * The body as the API wants it. On-Premises: exactly as the caller gave it. Cloud: with
 * `"messaging_product":"whatsapp"` first unless the caller set it; the rest of the caller's text is
 * kept byte for byte (no re-serialising). `body` is a validated JSON object.
 */
export function messageBody(api: CbotApi, body: string): string {
  if (api !== 'cloud') return body;
  const parsed = JSON.parse(body) as Record<string, unknown>;
  if (Object.hasOwn(parsed, 'messaging_product')) return body;
  const open = body.indexOf('{');
  return `{"messaging_product":"whatsapp",${body.slice(open + 1)}`;
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
