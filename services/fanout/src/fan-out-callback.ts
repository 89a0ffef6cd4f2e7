import { CbotStatus, DEFAULT_CALLBACK_LIMITS, OVER_CAP_REASON, eventId, eventMedia, eventsFromCallback, pricingFromStatus } from '@cbot-relay/messages';
import type { CallbackLimits, RelayEvent } from '@cbot-relay/messages';
import type { Logger, Metrics } from '@cbot-relay/observability';
import type { InboundJob } from '@cbot-relay/queues';
import { wantsChannel } from '@cbot-relay/records';
import type { MessageStore } from '@cbot-relay/records';
import { wants } from './subscriptions.js';
import type { Subscriber } from './subscriptions.js';

export interface FanOutDeps {
  store: Pick<MessageStore, 'applyStatus'>;
  subscribers: readonly Subscriber[];
  /** Adds the event to the subscriber's queue; false when it was already there. */
  add: (sub: Subscriber, event: RelayEvent) => Promise<boolean>;
  now: () => number;
  metrics: Pick<Metrics, 'events' | 'duplicateEvents' | 'callbackItemsOverCap' | 'messagesPriced'>;
  log: Logger;
  /** A template.status event came in on the channel: its template list is to be reloaded. */
  templatesChanged?: (channel: string) => Promise<void>;
  /** CALLBACK_MAX_ITEMS and EVENT_CONTACT_MAX_BYTES; DEFAULT_CALLBACK_LIMITS when absent. */
  limits?: CallbackLimits;
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
  for (const item of eventsFromCallback(payload, new Date(job.receivedAt), job.raw, deps.limits ?? DEFAULT_CALLBACK_LIMITS)) {
    if (item.reason === OVER_CAP_REASON) countOverCap(item, deps);
    // Another number's identical item is another event; channel default keeps the ids it always had.
    const media = item.type === 'message.received' ? eventMedia(item.data, channel) : undefined;
    const produced: RelayEvent = { ...item, ...(channel === 'default' ? {} : { id: eventId(`${channel}|${item.id}`) }), channel, ...(media ? { media } : {}) };
    const event = produced.type === 'message.status' ? await withStatusApplied(produced, channel, deps) : produced;
    if (event.type === 'template.status') await deps.templatesChanged?.(channel);
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
  return result;
}

/** Moves the sent message's record and names its relay id on the event when the wamid is ours. */
async function withStatusApplied(event: RelayEvent, channel: string, deps: FanOutDeps): Promise<RelayEvent> {
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
  const { relayId, pricedFor } = await deps.store.applyStatus(status.data.id, status.data.status, deps.now(), errors, cbotAtS, channel, hint, pricing);
  if (pricing !== undefined && pricedFor !== undefined) {
    deps.metrics.messagesPriced.inc({ channel, caller: pricedFor, category: pricing.category, type: pricing.type });
  }
  return relayId === undefined ? event : { ...event, relayMessageId: relayId };
}

/** Items past CALLBACK_MAX_ITEMS travel in one unrecognized event; say so, since their statuses move no record. */
function countOverCap(event: RelayEvent, deps: FanOutDeps): void {
  const data = event.data as { messages?: unknown; statuses?: unknown };
  const items = (Array.isArray(data.messages) ? data.messages.length : 0) + (Array.isArray(data.statuses) ? data.statuses.length : 0);
  deps.metrics.callbackItemsOverCap.inc(items);
  deps.log.warn({ eventId: event.id, items, maxItems: (deps.limits ?? DEFAULT_CALLBACK_LIMITS).maxItems }, 'callback over CALLBACK_MAX_ITEMS; the rest goes out as one unrecognized event');
}
