import type { SeedResult, SubscriberRecord, SubscriberStore } from '@cbot-relay/records';
import { DEFAULT_SUBSCRIPTIONS, loadSubscriptions } from './subscriptions.js';
import type { Subscriber } from './subscriptions.js';

/** A SUBSCRIPTIONS_FILE entry as the store keeps it: enabled, no rotation in progress. */
export function subscriberRecord(sub: Subscriber, nowMs: number, source: 'file' | 'api'): SubscriberRecord {
  const meta = { enabled: true, createdAt: nowMs, updatedAt: nowMs, source };
  return sub.kind === 'http' ? { ...sub, ...meta, previousSecrets: [] } : { ...sub, ...meta };
}

/**
 * Seeds the store from SUBSCRIPTIONS_FILE at startup (the rule is `SubscriberStore.seed`'s); with no
 * file, the `default` queue subscriber when the store holds none. Throws on an invalid file.
 */
export async function seedSubscribers(store: SubscriberStore, file: string | undefined, nowMs: number): Promise<SeedResult> {
  if (file === undefined || file.trim() === '') {
    const fallback = DEFAULT_SUBSCRIPTIONS.subscribers[0]!;
    return store.seed([], subscriberRecord(fallback, nowMs, 'file'));
  }
  return store.seed(loadSubscriptions(file).subscribers.map((s) => subscriberRecord(s, nowMs, 'file')));
}
