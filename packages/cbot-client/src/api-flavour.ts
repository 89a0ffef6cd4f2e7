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
