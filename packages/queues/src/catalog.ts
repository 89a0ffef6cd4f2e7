import { z } from 'zod';

/**
 * The queue catalog is a wire contract: names and payloads are read by processes of other versions
 * during a rolling deploy. Renaming a queue or changing a payload incompatibly needs a migration.
 */
export const QueueNames = {
  inbound: 'inbound',
  /** Queue subscribers consume this one (the contract names it). */
  events: (subscriber: string) => `events.${subscriber}`,
  /** HTTP subscribers: the fanout role's push workers consume this one. */
  push: (subscriber: string) => `push.${subscriber}`,
} as const;

/** One CBOT callback, kept as the raw text so nothing is lost to re-serialisation. */
export const InboundJob = z.object({
  raw: z.string(),
  receivedAt: z.number().int(),
  /** The channel whose endpoint and credentials took the callback; absent (older jobs): `default`. */
  channel: z.string().optional(),
});
export type InboundJob = z.infer<typeof InboundJob>;

/**
 * In Redis Cluster every key of one queue must hash to one slot. Wrapping the queue name in a hash
 * tag gives each queue its own slot, so queues spread over the cluster instead of piling onto one node.
 */
export function queueNameFor(name: string, cluster: boolean): string {
  return cluster ? `{${name}}` : name;
}

/**
 * Options for each callback job on the inbound queue. Fanout is idempotent (statuses only move
 * forward, subscriber adds are deduplicated by event id), so retries are safe: 10 attempts,
 * exponential from 1 s (1+2+…+256 s ≈ 8.5 min of retrying) before a callback lands in the failed set.
 */
export const INBOUND_JOB_OPTIONS = {
  attempts: 10,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: true,
  removeOnFail: { age: 7 * 86_400 },
} as const;
