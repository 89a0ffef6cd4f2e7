import { Queue } from 'bullmq';
import type { Worker } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import type { RelayConfig } from '@cbot-relay/config';
import type { Logger, Metrics, Tracing } from '@cbot-relay/observability';
import { QueueNames, queueNameFor } from '@cbot-relay/queues';
import type { MessageStore } from '@cbot-relay/records';
import { EventDeadLetters } from './dead-letters.js';
import { startInboundWorker } from './inbound-worker.js';
import { PushWorker } from './push-worker.js';
import { QueueDepthSampler } from './queue-depth.js';
import { SubscriberQueues } from './subscriber-queues.js';
import { SubscriberRetention } from './subscriber-retention.js';
import type { RetentionPolicy } from './subscriber-retention.js';
import type { Subscriber, Subscriptions } from './subscriptions.js';

export interface FanoutOptions {
  /** Shared by every queue and worker; BullMQ needs `maxRetriesPerRequest: null`. Not closed here. */
  connection: Redis | Cluster;
  prefix: string;
  cluster: boolean;
  subscriptions: Subscriptions;
  store: Pick<MessageStore, 'applyStatus'>;
  fanout: RelayConfig['fanout'];
  log: Logger;
  metrics: Metrics;
  /** When on: BullMQ's telemetry on every queue and worker here, and a CLIENT span per HTTP push. */
  tracing?: Tracing;
  now?: () => number;
  /** Delay before push retry n (ms); defaults to pushBackoffMs. Tests pass a fast one. */
  pushBackoffMs?: (failures: number) => number;
  /** How often queue depths are sampled into metrics; 0 turns sampling off. Default 15 s. */
  depthIntervalMs?: number;
  /** How often subscriber retention runs and lag is measured; 0: only on `retention.sweep()`. Default 15 s. */
  retentionIntervalMs?: number;
}

/** The fanout role: inbound callbacks → events → subscriber queues, and HTTP pushes. */
export class Fanout {
  readonly deadLetters: EventDeadLetters;
  /** Subscriber retention and lag (see subscriber-retention.ts). */
  readonly retention: SubscriberRetention;
  readonly #log: Logger;
  readonly #queues: SubscriberQueues;
  readonly #inbound: Worker;
  readonly #pushers: PushWorker[];
  readonly #depthQueue: Queue | undefined;
  readonly #sampler: QueueDepthSampler | undefined;
  #closing: Promise<void> | undefined;

  constructor(opts: FanoutOptions) {
    const { connection, prefix, cluster, fanout: cfg, metrics } = opts;
    const subscribers = opts.subscriptions.subscribers;
    const now = opts.now ?? Date.now;
    const log = opts.log.child({ component: 'fanout' });
    this.#log = log;
    const telemetry = opts.tracing?.bullmq;
    this.#queues = new SubscriberQueues({ connection, prefix, cluster, pushMaxAttempts: cfg.pushMaxAttempts, dedupeTtlS: cfg.dedupeTtlS, telemetry });
    const queues = this.#queues;
    this.deadLetters = new EventDeadLetters({ queues, subscribers });
    this.#inbound = startInboundWorker({
      connection,
      prefix,
      cluster,
      concurrency: cfg.concurrency,
      telemetry,
      deps: {
        store: opts.store,
        subscribers,
        add: (sub, event) => queues.add(sub, event),
        now,
        metrics,
        log,
        limits: { maxItems: cfg.callbackMaxItems, contactMaxBytes: cfg.contactMaxBytes },
      },
    });
    this.retention = new SubscriberRetention({
      queues: subscribers.map((sub) => ({ subscriber: sub.name, queue: queues.queue(sub), policy: retentionPolicy(sub, cfg) })),
      redis: connection,
      prefix,
      metrics,
      log,
      intervalMs: opts.retentionIntervalMs ?? 15_000,
      now,
    });
    this.#pushers = subscribers.flatMap((sub) =>
      sub.kind === 'http'
        ? [
            new PushWorker({
              connection,
              prefix,
              cluster,
              subscriber: sub,
              concurrency: cfg.pushConcurrency,
              timeoutMs: cfg.pushTimeoutMs,
              backoffMs: opts.pushBackoffMs,
              tracing: opts.tracing,
              now,
              log,
              metrics,
            }),
          ]
        : [],
    );
    const interval = opts.depthIntervalMs ?? 15_000;
    if (interval > 0) {
      this.#depthQueue = new Queue(queueNameFor(QueueNames.inbound, cluster), { connection, prefix });
      this.#depthQueue.on('error', () => undefined);
      const sampled = [this.#depthQueue, ...subscribers.map((s) => queues.queue(s))];
      this.#sampler = new QueueDepthSampler(sampled, metrics, interval, log);
    }
    log.info({ subscribers: subscribers.map((s) => ({ name: s.name, kind: s.kind, types: s.types })) }, 'fanout started');
  }

  get running(): boolean {
    return this.#closing === undefined && this.#inbound.isRunning() && this.#pushers.every((p) => p.running);
  }

  /**
   * Stops taking callbacks and waits for the ones in flight, then for pushes in flight, then closes
   * the queues. Every step runs even if an earlier one failed. Idempotent; the connection stays open.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#sampler?.close();
      await this.#settle('inbound worker', [this.#inbound.close(), this.retention.close()]);
      await this.#settle('push workers', this.#pushers.map((p) => p.close()));
      await this.#settle('queues', [this.#queues.close(), ...(this.#depthQueue ? [this.#depthQueue.close()] : [])]);
      this.#log.info('fanout stopped');
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #settle(step: string, work: Promise<unknown>[]): Promise<void> {
    for (const r of await Promise.allSettled(work)) {
      if (r.status === 'rejected') this.#log.error({ err: r.reason, step }, 'fanout close step failed');
    }
  }
}

/** A queue subscriber's own bounds, else the global ones; HTTP subscribers are only measured. */
export function retentionPolicy(sub: Subscriber, cfg: RelayConfig['fanout']): RetentionPolicy | undefined {
  if (sub.kind !== 'queue') return undefined;
  return { maxWaiting: sub.maxWaiting ?? cfg.subscriberMaxWaiting, maxAgeMs: (sub.maxAgeS ?? cfg.subscriberMaxAgeS) * 1000 };
}

/** Starts the inbound worker, one push worker per HTTP subscriber, and queue depth sampling. */
export function startFanout(opts: FanoutOptions): Fanout {
  return new Fanout(opts);
}
