import type { Queue } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import type { Logger, Metrics } from '@cbot-relay/observability';
import { RelayKeys } from '@cbot-relay/records';

/** How long a subscriber's waiting events are kept; 0 turns a bound off. */
export interface RetentionPolicy {
  maxWaiting: number;
  maxAgeMs: number;
}

export interface RetainedQueue {
  subscriber: string;
  queue: Queue;
  /** Undefined: only measured (HTTP subscribers drain through the relay's own push workers). */
  policy: RetentionPolicy | undefined;
}

export interface SubscriberRetentionOptions {
  queues: readonly RetainedQueue[];
  redis: Redis | Cluster;
  prefix: string;
  metrics: Pick<Metrics, 'subscriberDropped' | 'subscriberWaiting' | 'subscriberOldestAge'>;
  log: Logger;
  /** Sweep period; 0 = only when `sweep()` is called (tests). */
  intervalMs: number;
  now?: () => number;
}

/** Jobs per BullMQ clean call: each is one Lua script, so this bounds how long Redis is held. */
const BATCH = 1_000;
/** At most this many per subscriber per sweep; a larger excess goes over the next sweeps. */
const MAX_PER_SWEEP = 100_000;

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0`;

/**
 * Keeps `events.<name>` queues whose consumer has stopped from growing without bound: the oldest
 * waiting events past `maxWaiting`, and those waiting longer than `maxAgeMs`, are removed with
 * BullMQ's own `Queue.clean(grace, limit, 'wait')` (which takes from the oldest end of the wait
 * list), counted in `relay_subscriber_events_dropped_total{subscriber,reason}` and logged. Only
 * waiting events: active, delayed (retrying) and failed ones stay. A lock per subscriber keeps two
 * fanout processes from trimming the same queue at once (which would drop twice the excess).
 * Every sweep also sets the lag gauges (waiting count, age of the oldest waiting event).
 */
export class SubscriberRetention {
  readonly #opts: SubscriberRetentionOptions;
  readonly #now: () => number;
  readonly #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #closed = false;

  constructor(opts: SubscriberRetentionOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
    if (opts.intervalMs > 0) {
      this.#timer = setInterval(() => void this.sweep(), opts.intervalMs);
      this.#timer.unref();
    }
  }

  /** One pass over every subscriber; a pass already running is joined rather than doubled. */
  sweep(): Promise<void> {
    this.#running ??= this.#sweepAll().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #sweepAll(): Promise<void> {
    for (const q of this.#opts.queues) {
      if (this.#closed) return;
      try {
        if (q.policy && (q.policy.maxWaiting > 0 || q.policy.maxAgeMs > 0)) await this.#trimLocked(q, q.policy);
        await this.#measure(q);
      } catch (err) {
        this.#opts.log.warn({ err, subscriber: q.subscriber }, 'subscriber retention sweep failed');
      }
    }
  }

  async #trimLocked(q: RetainedQueue, policy: RetentionPolicy): Promise<void> {
    const { redis, prefix } = this.#opts;
    const lock = new RelayKeys(prefix).retentionLock(q.subscriber);
    const token = `${process.pid}:${Math.random()}`;
    if ((await redis.set(lock, token, 'PX', 60_000, 'NX')) !== 'OK') return;
    try {
      if (policy.maxAgeMs > 0) await this.#drop(q, 'max_age', () => q.queue.clean(policy.maxAgeMs, BATCH, 'wait'));
      if (policy.maxWaiting > 0) {
        let excess = Math.min((await q.queue.getWaitingCount()) - policy.maxWaiting, MAX_PER_SWEEP);
        // grace 0: every job of the `limit` oldest qualifies, so exactly the excess goes.
        await this.#drop(q, 'max_waiting', async () => {
          const n = Math.min(excess, BATCH);
          if (n <= 0) return [];
          excess -= n;
          return q.queue.clean(0, n, 'wait');
        });
      }
    } finally {
      await redis.eval(RELEASE, 1, lock, token).catch(() => undefined);
    }
  }

  /** Runs `clean` until it returns less than a full batch; counts and logs what went. */
  async #drop(q: RetainedQueue, reason: 'max_age' | 'max_waiting', clean: () => Promise<string[]>): Promise<void> {
    let dropped = 0;
    for (;;) {
      const ids = await clean();
      dropped += ids.length;
      if (ids.length < BATCH || dropped >= MAX_PER_SWEEP || this.#closed) break;
    }
    if (dropped === 0) return;
    this.#opts.metrics.subscriberDropped.inc({ subscriber: q.subscriber, reason }, dropped);
    this.#opts.log.warn({ subscriber: q.subscriber, reason, dropped }, 'dropped waiting events a subscriber did not take in time');
  }

  async #measure(q: RetainedQueue): Promise<void> {
    const waiting = await q.queue.getWaitingCount();
    const [oldest] = waiting > 0 ? await q.queue.getJobs(['wait'], 0, 0, true) : [];
    const ageS = oldest ? Math.max(0, (this.#now() - oldest.timestamp) / 1000) : 0;
    this.#opts.metrics.subscriberWaiting.set({ subscriber: q.subscriber }, waiting);
    this.#opts.metrics.subscriberOldestAge.set({ subscriber: q.subscriber }, ageS);
  }

  /** Idempotent; waits for a sweep in progress. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.#running;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
