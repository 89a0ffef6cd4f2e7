import type { Logger } from '@cbot-relay/observability';
import type { ConsoleSecret, ListPage, ListQuery, MessageRecord, MessageStore, MinuteCounters, Outbound } from '@cbot-relay/records';
import type { KeyRing } from '../auth.js';
import type { DeadLetters } from '../dead-letters.js';

/** One CBOT channel as the console shows it. */
export interface ChannelView {
  id: string;
  /** Sends per second allowed (CBOT_RATE_PER_SECOND or the channel's `ratePerSecond`). */
  ratePerSecond: number;
  /** Messages queued on it, not yet sent or ended. */
  queued: number;
  /** CBOT asked to slow down: claims wait this much longer (0: not paused). */
  pausedForMs: number;
}

/** One subscriber's delivery health, from its queue in Redis. */
export interface SubscriberHealth {
  name: string;
  kind: 'queue' | 'http';
  enabled: boolean;
  /** Events waiting to be delivered (or taken, for a queue subscriber). */
  waiting: number;
  /** Age of the oldest waiting event (0 when none). */
  oldestWaitingMs: number;
  /** Dead letters: deliveries that ran out of attempts. */
  failed: number;
  /** Of those, failed in the last 15 minutes. */
  failed15m: number;
  lastError?: { at: string | null; reason: string };
}

export interface ConsoleDeps {
  adminKeys: KeyRing;
  secret: ConsoleSecret;
  store: MessageStore;
  /** HISTORY_DATABASE_URL: what the API reads past Redis (the same reader GET /v1/messages uses); absent: Redis alone. */
  history?: {
    get(id: string): Promise<MessageRecord | undefined>;
    list(q: ListQuery): Promise<ListPage>;
  };
  outbound: Outbound;
  deadLetters: DeadLetters;
  counters: MinuteCounters;
  /** Every configured channel id (the wamid search asks each). */
  channelIds: readonly string[];
  channels: () => Promise<ChannelView[]>;
  subscribers: () => Promise<SubscriberHealth[]>;
  /** Whether CBOT holds the callback URL; absent: this relay registers none. */
  webhookRegistered?: () => boolean;
  /** CONSOLE_RUNBOOK_URL: where docs/operations.md is published; absent: runbooks are named, not linked. */
  runbookUrl?: string;
  now: () => number;
  log: Logger;
}
