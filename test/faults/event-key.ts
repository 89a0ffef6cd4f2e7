/**
 * What one event is about, independent of the relay's event id: the CBOT message id of an inbound
 * message, or the CBOT message id plus status of a status. Two event ids for one key are a real
 * duplicate; the same event id twice is a redelivery.
 */
export function eventKey(event: { type?: unknown; data?: unknown }): string | undefined {
  const data = event.data as { id?: unknown; status?: unknown } | null | undefined;
  if (typeof data?.id !== 'string') return undefined;
  if (event.type === 'message.received') return `message:${data.id}`;
  if (event.type === 'message.status' && typeof data.status === 'string') return `status:${data.id}:${data.status}`;
  return undefined;
}

/**
 * Events the relay makes of its own (a channel paused by a 429 storm, an opt-out) or of account
 * callbacks: real events, but not ones the suite's load produces a key for; they are not counted.
 */
export function isOtherEvent(event: { type?: unknown }): boolean {
  return typeof event.type === 'string' && /^(channel|recipient|template|phone_number|account)\./.test(event.type);
}

/** The keys a CBOT callback payload (On-Premises shape, as the simulator sends) should produce. */
export function callbackKeys(payload: unknown): string[] {
  const p = payload as { messages?: unknown; statuses?: unknown } | null;
  const keys: string[] = [];
  for (const m of Array.isArray(p?.messages) ? p.messages : []) {
    const id = (m as { id?: unknown }).id;
    if (typeof id === 'string') keys.push(`message:${id}`);
  }
  for (const s of Array.isArray(p?.statuses) ? p.statuses : []) {
    const { id, status } = s as { id?: unknown; status?: unknown };
    if (typeof id === 'string' && typeof status === 'string') keys.push(`status:${id}:${status}`);
  }
  return keys;
}
