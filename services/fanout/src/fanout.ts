import { Queue } from 'bullmq';
import type { Worker } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import type { RelayConfig } from '@cbot-relay/config';
import type { Logger, Metrics, Tracing } from '@cbot-relay/observability';
import { QueueNames, queueNameFor } from '@cbot-relay/queues';
import type { MessageStore, PreviousSecret, SubscriberStore } from '@cbot-relay/records';
import { EventDeadLetters } from './dead-letters.js';
import { startInboundWorker } from './inbound-worker.js';
import { PushWorker } from './push-worker.js';
import type { SignedSubscriber } from './push-worker.js';
import { QueueDepthSampler } from './queue-depth.js';
import { SubscriberQueues } from './subscriber-queues.js';
import { SubscriberRetention } from './subscriber-retention.js';
import type { RetainedQueue, RetentionPolicy } from './subscriber-retention.js';
import { SubscriberWatch } from './subscriber-watch.js';
import type { Subscriber, Subscriptions } from './subscriptions.js';

export interface FanoutOptions {
  /** Shared by every queue and worker; BullMQ needs `maxRetriesPerRequest: null`. Not closed here. */
  connection: Redis | Cluster;
  prefix: string;
  cluster: boolean;
  /** The subscribers to start with (`startFanoutFromStore`: the store's, then followed). */
  subscriptions: Subscriptions | { subscribers: readonly LiveSubscriber[] };
  store: Pick<MessageStore, 'applyStatus'>;
  /** A template.status event came in on the channel (its template list is to be reloaded). */
  templatesChanged?: (channel: string) => Promise<void>;
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

/**
 * A subscriber as fanout runs it: a SUBSCRIPTIONS_FILE entry or a stored record (`enabled`, and the
 * secrets of a rotation in their overlap window).
 */
export type LiveSubscriber = Subscriber & { enabled?: boolean; previousSecrets?: readonly PreviousSecret[] };

/** The fanout role: inbound callbacks → events → subscriber queues, and HTTP pushes. */
export class Fanout {
  readonly deadLetters: EventDeadLetters;
  /** Subscriber retention and lag (see subscriber-retention.ts). */
  readonly retention: SubscriberRetention;
  readonly #opts: FanoutOptions;
  readonly #log: Logger;
  readonly #queues: SubscriberQueues;
  readonly #inbound: Worker;
  /** Every known subscriber, enabled or not (dead letters are listed for each). */
  #all: readonly LiveSubscriber[] = [];
  /** Those that get new events. */
  #active: readonly LiveSubscriber[] = [];
  readonly #pushers = new Map<string, { worker: PushWorker; current: SignedSubscriber }>();
  /** Push workers of removed or disabled subscribers, finishing what they have in flight. */
  readonly #stopping = new Set<Promise<void>>();
  // Read by retention and depth sampling on each pass; changed in place when the list changes.
  readonly #retained: RetainedQueue[] = [];
  readonly #sampled: Queue[] = [];
  readonly #depthQueue: Queue | undefined;
  readonly #sampler: QueueDepthSampler | undefined;
  #watch: SubscriberWatch | undefined;
  #closing: Promise<void> | undefined;

  constructor(opts: FanoutOptions) {
    const { connection, prefix, cluster, fanout: cfg, metrics } = opts;
    const now = opts.now ?? Date.now;
    const log = opts.log.child({ component: 'fanout' });
    this.#opts = { ...opts, now };
    this.#log = log;
    const telemetry = opts.tracing?.bullmq;
    this.#queues = new SubscriberQueues({ connection, prefix, cluster, pushMaxAttempts: cfg.pushMaxAttempts, dedupeTtlS: cfg.dedupeTtlS, telemetry });
    const queues = this.#queues;
    this.deadLetters = new EventDeadLetters({ queues, subscribers: () => this.#all });
    this.retention = new SubscriberRetention({
      queues: this.#retained,
      redis: connection,
      prefix,
      metrics,
      log,
      intervalMs: opts.retentionIntervalMs ?? 15_000,
      now,
    });
    const interval = opts.depthIntervalMs ?? 15_000;
    if (interval > 0) {
      this.#depthQueue = new Queue(queueNameFor(QueueNames.inbound, cluster), { connection, prefix });
      this.#depthQueue.on('error', () => undefined);
      this.#sampled.push(this.#depthQueue);
      this.#sampler = new QueueDepthSampler(this.#sampled, metrics, interval, log);
    }
    // Before the inbound worker starts: no callback is fanned out to an empty list.
    this.#apply(opts.subscriptions.subscribers);
    const self = this;
    this.#inbound = startInboundWorker({
      connection,
      prefix,
      cluster,
      concurrency: cfg.concurrency,
      telemetry,
      deps: {
        store: opts.store,
        // Read per callback: a subscriber added, changed or removed applies from the next callback on.
        get subscribers() {
          return self.#active;
        },
        add: (sub, event) => queues.add(sub, event),
        now,
        metrics,
        log,
        limits: { maxItems: cfg.callbackMaxItems, contactMaxBytes: cfg.contactMaxBytes },
        ...(opts.templatesChanged ? { templatesChanged: opts.templatesChanged } : {}),
      },
    });
    log.info({ subscribers: this.#active.map((s) => ({ name: s.name, kind: s.kind, types: s.types })) }, 'fanout started');
  }

  /** The subscribers getting new events now. */
  get subscribers(): readonly LiveSubscriber[] {
    return this.#active;
  }

  get running(): boolean {
    return this.#closing === undefined && this.#inbound.isRunning() && [...this.#pushers.values()].every((p) => p.worker.running);
  }

  /** Follows the store from `version` on (see SubscriberWatch); `startFanoutFromStore` calls it. */
  async follow(store: SubscriberStore, version: number, pollMs: number): Promise<void> {
    this.#watch = await SubscriberWatch.start({
      store,
      connection: this.#opts.connection,
      version,
      pollMs,
      log: this.#log,
      onChange: (snap) => {
        if (this.#closing) return;
        this.#apply(snap.subscribers);
        this.#log.info({ version: snap.version, subscribers: this.#active.map((s) => s.name) }, 'subscribers changed');
      },
    });
  }

  /**
   * Makes `all` the subscriber list: new events go to the enabled ones; a push worker runs for each
   * enabled HTTP subscriber (a changed URL or secret applies from its next attempt); the push worker
   * of a removed or disabled one stops after its deliveries in flight, leaving its queue as it is.
   */
  #apply(all: readonly LiveSubscriber[]): void {
    const { fanout: cfg } = this.#opts;
    const active = all.filter((s) => s.enabled !== false);
    const wanted = new Map(active.flatMap((s) => (s.kind === 'http' ? [[s.name, s] as const] : [])));
    for (const [name, p] of this.#pushers) {
      if (wanted.has(name)) continue;
      this.#pushers.delete(name);
      const stopped = p.worker.close().catch((err: unknown) => this.#log.error({ err, subscriber: name }, 'push worker close failed'));
      this.#stopping.add(stopped);
      void stopped.finally(() => this.#stopping.delete(stopped));
    }
    for (const [name, sub] of wanted) {
      const running = this.#pushers.get(name);
      if (running) {
        running.current = sub;
        continue;
      }
      const worker = new PushWorker({
        connection: this.#opts.connection,
        prefix: this.#opts.prefix,
        cluster: this.#opts.cluster,
        subscriber: sub,
        current: () => this.#pushers.get(name)?.current ?? sub,
        concurrency: cfg.pushConcurrency,
        timeoutMs: cfg.pushTimeoutMs,
        ...(this.#opts.pushBackoffMs ? { backoffMs: this.#opts.pushBackoffMs } : {}),
        now: this.#opts.now ?? Date.now,
        log: this.#log,
        tracing: this.#opts.tracing,
        metrics: this.#opts.metrics,
      });
      this.#pushers.set(name, { worker, current: sub });
    }
    this.#all = all;
    this.#active = active;
    this.#retained.splice(0, this.#retained.length, ...all.map((sub) => ({ subscriber: sub.name, queue: this.#queues.queue(sub), policy: retentionPolicy(sub, cfg) })));
    if (this.#depthQueue) this.#sampled.splice(0, this.#sampled.length, this.#depthQueue, ...all.map((s) => this.#queues.queue(s)));
  }

  /**
   * Stops following the store and taking callbacks and waits for the ones in flight, then for pushes
   * in flight, then closes the queues. Every step runs even if an earlier one failed. Idempotent;
   * the connection stays open.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#sampler?.close();
      await this.#settle('subscriber watch', [this.#watch?.close() ?? Promise.resolve()]);
      await this.#settle('inbound worker', [this.#inbound.close(), this.retention.close()]);
      await this.#settle('push workers', [...[...this.#pushers.values()].map((p) => p.worker.close()), ...this.#stopping]);
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

/**
 * Fanout over the subscribers in `subscriberStore`, following every change (Pub/Sub notification,
 * and a poll of the version every `watchIntervalMs`, default 5 s: a change reaches every fanout
 * process within that, with no restart).
 */
export async function startFanoutFromStore(
  opts: Omit<FanoutOptions, 'subscriptions'> & { subscriberStore: SubscriberStore; watchIntervalMs?: number },
): Promise<Fanout> {
  const { subscriberStore, watchIntervalMs, ...rest } = opts;
  const snap = await subscriberStore.snapshot();
  const fanout = new Fanout({ ...rest, subscriptions: { subscribers: snap.subscribers } });
  try {
    await fanout.follow(subscriberStore, snap.version, watchIntervalMs ?? 5_000);
  } catch (err) {
    await fanout.close();
    throw err;
  }
  return fanout;
}
