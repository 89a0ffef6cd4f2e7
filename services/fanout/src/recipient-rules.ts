import { eventId, normalizeRecipient } from '@cbot-relay/messages';
import type { OptChange, RelayEvent } from '@cbot-relay/messages';
import { inboundSeconds } from '@cbot-relay/records';
import type { Recipients } from '@cbot-relay/records';

/** OPT_OUT_KEYWORDS / OPT_IN_KEYWORDS, trimmed and case-folded (as the config gives them). */
export interface OptKeywords {
  optOut: readonly string[];
  optIn: readonly string[];
}

export const DEFAULT_OPT_KEYWORDS: OptKeywords = { optOut: ['stop', 'unsubscribe'], optIn: ['start'] };

/** Case folding for keywords: Unicode-normalised lower case, the same whatever the server's locale. */
export function foldKeyword(s: string): string {
  return s.normalize('NFKC').trim().toLowerCase();
}

/**
 * Whether an inbound message is an opt-out or opt-in keyword: a `text` message whose body, trimmed
 * and case-folded, equals one of the keywords (the whole body: "stop it" is not a keyword).
 */
export function optKeyword(message: unknown, keywords: OptKeywords): { kind: 'out' | 'in'; keyword: string } | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const m = message as { type?: unknown; text?: unknown };
  if (m.type !== 'text' || typeof m.text !== 'object' || m.text === null) return undefined;
  const body = (m.text as { body?: unknown }).body;
  if (typeof body !== 'string' || body.length > 256) return undefined;
  const folded = foldKeyword(body);
  if (keywords.optOut.includes(folded)) return { kind: 'out', keyword: body.trim() };
  if (keywords.optIn.includes(folded)) return { kind: 'in', keyword: body.trim() };
  return undefined;
}

export interface RecipientRulesDeps {
  recipients: Pick<Recipients, 'inbound' | 'optOut' | 'optIn'>;
  keywords: OptKeywords;
}

/**
 * An inbound message moves its sender's customer-service window (its own `timestamp`, clamped to now)
 * and, when it is a keyword, opts the sender out or back in on the channel. Returns the
 * recipient.opted_out / opted_in event to fan out: its id comes from the inbound message's, so a
 * redelivered callback yields the same event (deduplicated downstream). A keyword that changes
 * nothing (STOP from someone opted out already) still yields its event: the message was a request.
 */
export async function applyRecipientRules(event: RelayEvent, channel: string, nowMs: number, deps: RecipientRulesDeps): Promise<RelayEvent | undefined> {
  const m = event.data as { id?: unknown; from?: unknown; timestamp?: unknown };
  if (typeof m !== 'object' || m === null || typeof m.from !== 'string' || !/^\s*\+?\d{1,15}\s*$/.test(m.from)) return undefined;
  const from = normalizeRecipient(m.from);
  const atS = inboundSeconds(m.timestamp, nowMs);
  // A message with no readable time still shows the recipient wrote: now is the best estimate.
  await deps.recipients.inbound(channel, from, atS ?? Math.floor(nowMs / 1000), nowMs);
  const kw = optKeyword(event.data, deps.keywords);
  if (kw === undefined) return undefined;
  const atMs = (atS ?? Math.floor(nowMs / 1000)) * 1000;
  if (kw.kind === 'out') await deps.recipients.optOut(channel, from, atMs);
  else await deps.recipients.optIn(channel, from, atMs);
  const type = kw.kind === 'out' ? 'recipient.opted_out' : 'recipient.opted_in';
  const data: OptChange = { channel, to: from, at: new Date(atMs).toISOString(), keyword: kw.keyword, messageId: typeof m.id === 'string' ? m.id : '' };
  return { id: eventId(`${type}|${event.id}`), type, occurredAt: data.at, receivedAt: event.receivedAt, channel, data };
}
