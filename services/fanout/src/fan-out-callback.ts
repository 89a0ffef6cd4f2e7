import {
  CbotStatus, DEFAULT_CALLBACK_LIMITS, OVER_CAP_REASON, RelayEvent, channelEvent, eventId, eventMedia, eventsFromCallback, normalizeRecipient, numberProtection,
  pricingFromStatus, qualityFromCallback,
} from '@cbot-relay/messages';
import type { CallbackLimits } from '@cbot-relay/messages';
import type { Logger, Metrics } from '@cbot-relay/observability';
import type { InboundJob } from '@cbot-relay/queues';
import { wantsChannel } from '@cbot-relay/records';
import type { GateChange, MessageStore, Outbound } from '@cbot-relay/records';
import { applyRecipientRules } from './recipient-rules.js';
import type { RecipientRulesDeps } from './recipient-rules.js';
import { wants } from './subscriptions.js';
import type { Subscriber } from './subscriptions.js';

export interface FanOutDeps {
  store: Pick<MessageStore, 'applyStatus'>;
  subscribers: readonly Subscriber[];
  /** Adds the event to the subscriber's queue; false when it was already there. */
  add: (sub: Subscriber, event: RelayEvent) => Promise<boolean>;
  now: () => number;
  metrics: Pick<Metrics, 'events' | 'duplicateEvents' | 'callbackItemsOverCap' | 'messagesPriced' | 'reconciled'>;
  log: Logger;
  /** A template.status event came in on the channel: its template list is to be reloaded. */
  templatesChanged?: (channel: string) => Promise<void>;
  /** CALLBACK_MAX_ITEMS and EVENT_CONTACT_MAX_BYTES; DEFAULT_CALLBACK_LIMITS when absent. */
  limits?: CallbackLimits;
  /** WhatsApp's rules from inbound messages (customer-service window, opt-out keywords); absent: not kept. */
  rules?: RecipientRulesDeps;
  /**
   * A relay message WhatsApp failed for its customer-service window after it was sent (a `failed`
   * status with 131047 / 470) goes again as its fallback template (Outbound.fallbackAfterFailure);
   * false when it has none. Absent: such a message stays failed.
   */
  windowFallback?: (relayId: string) => Promise<boolean>;
  /** The number's protection from callbacks (failed statuses' codes, quality updates); absent: callbacks change no channel. */
  protection?: ProtectionDeps;
}

export interface ProtectionDeps {
  outbound: Pick<Outbound, 'changeGate' | 'holdRecipient' | 'replay' | 'setQuality'>;
  /** QUALITY_PAUSE_S in ms. */
  qualityPauseMs: number;
}

export interface FanOutResult {
  events: number;
  duplicates: number;
}

/**
 * One CBOT callback → events → every subscriber that wants them. Safe to run again on the same
 * callback: statuses only move records forward and adds are deduplicated by event id.
 */
export async function fanOutCallback(job: InboundJob, deps: FanOutDeps): Promise<FanOutResult> {
  let payload: unknown;
  try {
    payload = JSON.parse(job.raw);
  } catch {
    // The ingress only enqueues JSON; should that ever break, keep the text as an unrecognized event.
    deps.log.warn({ bytes: job.raw.length }, 'inbound callback is not JSON; kept as an unrecognized event');
    payload = job.raw;
  }
  const result: FanOutResult = { events: 0, duplicates: 0 };
  const channel = job.channel ?? 'default';
  if (job.relay) {
    // An event the relay originated (relayEventJob): delivered as it is.
    const event = RelayEvent.safeParse(payload);
    if (event.success) await deliver(event.data, channel, deps, result);
    else deps.log.warn({ issues: event.error.issues.length }, 'relay event job does not hold an event; dropped');
    return result;
  }
  if (deps.protection) {
    const quality = qualityFromCallback(payload);
    if (quality !== undefined) await deps.protection.outbound.setQuality(channel, quality);
  }
  for (const item of eventsFromCallback(payload, new Date(job.receivedAt), job.raw, deps.limits ?? DEFAULT_CALLBACK_LIMITS)) {
    if (item.reason === OVER_CAP_REASON) countOverCap(item, deps);
    // Another number's identical item is another event; channel default keeps the ids it always had.
    const media = item.type === 'message.received' ? eventMedia(item.data, channel) : undefined;
    const produced: RelayEvent = { ...item, ...(channel === 'default' ? {} : { id: eventId(`${channel}|${item.id}`) }), channel, ...(media ? { media } : {}) };
    const follow: RelayEvent[] = [];
    const event = produced.type === 'message.status' ? await withStatusApplied(produced, channel, job.receivedAt, deps, follow) : produced;
    if (event.type === 'template.status') await deps.templatesChanged?.(channel);
    // The window and opt-outs are written before the message's event goes out: a consumer that answers
    // it at once finds the window open.
    const opt = event.type === 'message.received' && deps.rules ? await applyRecipientRules(event, channel, deps.now(), deps.rules) : undefined;
    await deliver(event, channel, deps, result);
    if (opt) await deliver(opt, channel, deps, result);
    for (const e of follow) await deliver(e, channel, deps, result);
  }
  return result;
}

/** One event to every subscriber that wants its type and channel. */
async function deliver(event: RelayEvent, channel: string, deps: FanOutDeps, result: FanOutResult): Promise<void> {
  let added = 0;
  let targets = 0;
  for (const sub of deps.subscribers) {
    if (!wants(sub, event.type) || !wantsChannel(sub, channel)) continue;
    targets++;
    if (await deps.add(sub, event)) added++;
  }
  if (targets > 0 && added === 0) {
    result.duplicates++;
    deps.metrics.duplicateEvents.inc();
  } else {
    result.events++;
    deps.metrics.events.inc({ type: event.type });
  }
}

/**
 * Moves the sent message's record and names its relay id on the event when the wamid is ours. A
 * `failed` status whose `errors[].code` protects the number (NUMBER_PROTECTION) applies that
 * protection as the send's own answer would: the channel's pause or stop (its event joins `follow`),
 * or the recipient's pair hold; and the message, which WhatsApp did not deliver, goes back on its
 * recipient's queue (at the end: its later messages may have gone meanwhile) to be sent again when the
 * channel lets it. Only the callback that moved the record to `failed` requeues it, so a redelivered
 * callback does not send it twice.
 */
async function withStatusApplied(event: RelayEvent, channel: string, receivedAt: number, deps: FanOutDeps, follow: RelayEvent[]): Promise<RelayEvent> {
  const status = CbotStatus.safeParse(event.data);
  if (!status.success) return event;
  const errors = status.data['errors'];
  // CBOT's own time of the status (unix seconds, string or number), kept in the record's history.
  const ts = status.data['timestamp'];
  const cbotAtS = typeof ts === 'number' || (typeof ts === 'string' && /^\d{1,12}$/.test(ts)) ? Number(ts) : undefined;
  // Correlated within the channel: a callback on one number can never move another number's message.
  // The recipient points at the outbound partition that most likely sent it.
  const rid = status.data['recipient_id'];
  const hint = typeof rid === 'string' ? rid : undefined;
  const pricing = pricingFromStatus(status.data);
  // Cloud returns the send's biz_opaque_callback_data (the relay id, unless the caller set its own).
  const bizOpaque = status.data['biz_opaque_callback_data'];
  const opaque = typeof bizOpaque === 'string' && bizOpaque.length <= 512 ? bizOpaque : undefined;
  const seen = { receivedAtMs: receivedAt, ...(opaque === undefined ? {} : { opaque }) };
  const { relayId, applied, pricedFor, reconciled } = await deps.store.applyStatus(status.data.id, status.data.status, deps.now(), errors, cbotAtS, channel, hint, pricing, seen);
  if (reconciled !== undefined) {
    deps.metrics.reconciled.inc({ outcome: `matched_${reconciled}` });
    deps.log.info({ relayId, wamid: status.data.id, by: reconciled }, 'a status identified a message whose answer was lost: recorded sent, not sent again');
  }
  if (pricing !== undefined && pricedFor !== undefined) {
    deps.metrics.messagesPriced.inc({ channel, caller: pricedFor, category: pricing.category, type: pricing.type });
  }
  if (relayId !== undefined && status.data.status === 'failed' && deps.windowFallback && windowRefused(errors)) {
    // After the failure is recorded: the fallback requeue takes only a failed record, so a redelivered
    // callback finds the fallback used and does nothing.
    if (await deps.windowFallback(relayId)) deps.log.info({ relayId }, 'WhatsApp failed the message for its customer-service window; sending its fallback template');
  }
  if (status.data.status === 'failed' && deps.protection) await protect(deps.protection, channel, errors, hint, relayId !== undefined && applied ? relayId : undefined, deps, follow);
  return relayId === undefined ? event : { ...event, relayMessageId: relayId };
}

/** A status's `errors` name WhatsApp's customer-service window: 131047 (Cloud), 470 (On-Premises). */
function windowRefused(errors: unknown): boolean {
  return Array.isArray(errors) && errors.some((e) => typeof e === 'object' && e !== null && [131047, 470].includes(Number((e as { code?: unknown }).code)));
}

async function protect(p: ProtectionDeps, channel: string, errors: unknown, to: string | undefined, requeue: string | undefined, deps: FanOutDeps, follow: RelayEvent[]): Promise<void> {
  const codes = Array.isArray(errors) ? errors.flatMap((e) => (typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'number' ? [(e as { code: number }).code] : [])) : [];
  const kind = numberProtection(codes);
  if (kind === undefined) return;
  const code = codes.find((c) => numberProtection([c]) === kind);
  const now = deps.now();
  // The channel first: the requeued message must find it paused.
  if (kind !== 'pair') {
    const change: GateChange = kind === 'stop' ? { action: 'stop', code } : { action: kind, code };
    const { changed, state } = await p.outbound.changeGate(channel, change, now, p.qualityPauseMs);
    if (changed) {
      deps.log.warn({ channel, code, state }, 'a failed status callback paused or stopped the channel');
      follow.push(channelEvent(channel, state, now));
    }
  }
  if (requeue !== undefined) {
    const r = await p.outbound.replay(requeue, now);
    deps.log.info({ relayId: requeue, code, requeued: r.kind === 'replayed' }, 'CBOT reported the message failed for a code that protects the number; queued again');
  }
  if (kind === 'pair' && to !== undefined) await p.outbound.holdRecipient(channel, normalizeRecipient(to), now);
}

/** Items past CALLBACK_MAX_ITEMS travel in one unrecognized event; say so, since their statuses move no record. */
function countOverCap(event: RelayEvent, deps: FanOutDeps): void {
  const data = event.data as { messages?: unknown; statuses?: unknown };
  const items = (Array.isArray(data.messages) ? data.messages.length : 0) + (Array.isArray(data.statuses) ? data.statuses.length : 0);
  deps.metrics.callbackItemsOverCap.inc(items);
  deps.log.warn({ eventId: event.id, items, maxItems: (deps.limits ?? DEFAULT_CALLBACK_LIMITS).maxItems }, 'callback over CALLBACK_MAX_ITEMS; the rest goes out as one unrecognized event');
}
