import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { RelayConfig } from '@cbot-relay/config';
import { createLogger, createMetrics } from '@cbot-relay/observability';
import type { Metrics } from '@cbot-relay/observability';
import { INBOUND_JOB_OPTIONS } from '@cbot-relay/queues';
import { MessageStore } from '@cbot-relay/records';
import { startFanout } from '../fanout.js';
import type { Fanout } from '../fanout.js';
import { parseSubscriptions } from '../subscriptions.js';
import { Receiver } from './receiver.js';

export const TEST_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

export const FAST_FANOUT: RelayConfig['fanout'] = {
  concurrency: 4,
  pushConcurrency: 4,
  pushTimeoutMs: 2_000,
  pushMaxAttempts: 50,
  dedupeTtlS: 7 * 86_400,
  callbackMaxItems: 1_000,
  contactMaxBytes: 4_096,
  subscriberMaxWaiting: 0,
  subscriberMaxAgeS: 0,
};

export interface RigOptions {
  redisUrl: string;
  prefix: string;
  /** The subscribers list; `url` is the rig's receiver. */
  subscribers: (url: string) => unknown[];
  fanout?: Partial<RelayConfig['fanout']>;
}

/** Test-only: a started fanout on a real Redis, a receiving HTTP subscriber, and a way to post callbacks. */
export class Rig {
  readonly fanout: Fanout;
  readonly store: MessageStore;
  readonly metrics: Metrics = createMetrics();
  readonly connection: Redis;
  readonly inbound: Queue;

  private constructor(
    readonly opts: RigOptions,
    readonly receiver: Receiver,
  ) {
    this.connection = new Redis(opts.redisUrl, { maxRetriesPerRequest: null });
    this.store = new MessageStore({ redis: this.connection, prefix: opts.prefix, recordTtlS: 3600 });
    this.inbound = new Queue('inbound', { connection: this.connection, prefix: opts.prefix });
    this.fanout = startFanout({
      connection: this.connection,
      prefix: opts.prefix,
      cluster: false,
      subscriptions: parseSubscriptions({ subscribers: opts.subscribers(receiver.url) }),
      store: this.store,
      fanout: { ...FAST_FANOUT, ...opts.fanout },
      log: createLogger({ level: 'silent' }),
      metrics: this.metrics,
      pushBackoffMs: () => 50,
      depthIntervalMs: 50,
      retentionIntervalMs: 0, // tests sweep when they mean to
    });
  }

  static async start(opts: RigOptions): Promise<Rig> {
    return new Rig(opts, await Receiver.start());
  }

  /** What the ingress does with one callback. */
  async post(raw: string, receivedAt = Date.now()): Promise<void> {
    await this.inbound.add('callback', { raw, receivedAt }, INBOUND_JOB_OPTIONS);
  }

  /** Inbound jobs not yet done (waiting, active or delayed). */
  async inboundBacklog(): Promise<number> {
    const c = await this.inbound.getJobCounts('wait', 'active', 'delayed', 'prioritized');
    return Object.values(c).reduce((a, b) => a + b, 0);
  }

  queue(name: string): Queue {
    return new Queue(name, { connection: this.connection, prefix: this.opts.prefix });
  }

  async close(): Promise<void> {
    await this.fanout.close();
    await this.inbound.close();
    await this.receiver.close();
    this.connection.disconnect();
  }
}
