export { EventDeadLetters, deadLetterId } from './dead-letters.js';
export type { EventDeadLetter, EventReplayResult } from './dead-letters.js';
export { fanOutCallback } from './fan-out-callback.js';
export type { FanOutDeps, FanOutResult, ProtectionDeps } from './fan-out-callback.js';
export { Fanout, retentionPolicy, startFanout, startFanoutFromStore } from './fanout.js';
export type { FanoutOptions, LiveSubscriber } from './fanout.js';
export { SubscriberWatch } from './subscriber-watch.js';
export type { SubscriberWatchOptions } from './subscriber-watch.js';
export type { SignedSubscriber } from './push-worker.js';
export { QUEUE_SUBSCRIBER_ATTEMPTS, subscriberJobOptions } from './job-options.js';
/** The inbound job options live in the queue catalog (the ingress adds, fanout consumes). */
export { INBOUND_JOB_OPTIONS } from '@cbot-relay/queues';
export { PUSH_BACKOFF_MAX_MS, pushBackoffMs } from './push-backoff.js';
export { SubscriberQueues, subscriberQueueName } from './subscriber-queues.js';
export { subscriberHealth } from './subscriber-health.js';
export type { SubscriberHealthRow } from './subscriber-health.js';
export { SubscriberRetention } from './subscriber-retention.js';
export type { RetainedQueue, RetentionPolicy, SubscriberRetentionOptions } from './subscriber-retention.js';
export {
  DEFAULT_SUBSCRIPTIONS,
  Subscriber,
  Subscriptions,
  loadSubscriptions,
  parseSubscriptions,
  wants,
} from './subscriptions.js';
export type { HttpSubscriber } from './subscriptions.js';
export { signWebhook, signingKey, webhookHeaders } from './webhook-signature.js';
export { seedSubscribers, subscriberRecord } from './seed-subscribers.js';
export { DEFAULT_OPT_KEYWORDS, applyRecipientRules, foldKeyword, optKeyword } from './recipient-rules.js';
export type { OptKeywords, RecipientRulesDeps } from './recipient-rules.js';
