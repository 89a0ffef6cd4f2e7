import type { JobsOptions } from 'bullmq';
import type { RelayEvent } from '@cbot-relay/messages';
import { PUSH_BACKOFF_TYPE } from './push-backoff.js';
import type { Subscriber } from './subscriptions.js';

const DAY_S = 86_400;

/**
 * Queue subscribers' handlers retry 10 times, 1 s doubling (≈ 8.5 min in all), before the job stays
 * in the failed set. HTTP pushes use the push backoff (see push-backoff.ts) and PUSH_MAX_ATTEMPTS.
 */
export const QUEUE_SUBSCRIBER_ATTEMPTS = 10;

/**
 * One job per (event, subscriber). The job id is the event id, and BullMQ's deduplication key (set
 * atomically by the add) outlives the job: a callback redelivered days later, after the first job
 * was completed and removed, still adds nothing.
 */
export function subscriberJobOptions(
  sub: Subscriber,
  event: RelayEvent,
  cfg: { pushMaxAttempts: number; dedupeTtlS: number },
): JobsOptions {
  const common: JobsOptions = {
    jobId: event.id,
    deduplication: { id: event.id, ttl: cfg.dedupeTtlS * 1000 },
    removeOnComplete: { age: 3600, count: 10_000 },
    removeOnFail: { age: 7 * DAY_S },
  };
  if (sub.kind === 'http') return { ...common, attempts: cfg.pushMaxAttempts, backoff: { type: PUSH_BACKOFF_TYPE } };
  return { ...common, attempts: QUEUE_SUBSCRIBER_ATTEMPTS, backoff: { type: 'exponential', delay: 1_000 } };
}
