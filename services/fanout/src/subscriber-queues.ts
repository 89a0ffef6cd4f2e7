import { Queue } from 'bullmq';
import type { Telemetry } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import type { RelayEvent } from '@cbot-relay/messages';
import { QueueNames, queueNameFor } from '@cbot-relay/queues';
import { subscriberJobOptions } from './job-options.js';
import type { Subscriber } from './subscriptions.js';

export interface SubscriberQueuesOptions {
  connection: Redis | Cluster;
  prefix: string;
  cluster: boolean;
  pushMaxAttempts: number;
  dedupeTtlS: number;
  /** BullMQ's telemetry (tracing on): each job carries the trace it was added in. */
  telemetry?: Telemetry | undefined;
}

/** `events.<name>` for queue subscribers, `push.<name>` for HTTP ones (hash-tagged in a cluster). */
export function subscriberQueueName(sub: Subscriber, cluster: boolean): string {
  const name = sub.kind === 'http' ? QueueNames.push(sub.name) : QueueNames.events(sub.name);
  return queueNameFor(name, cluster);
}

/** The producer side of every subscriber queue. */
export class SubscriberQueues {
  readonly #queues = new Map<string, Queue>();
  readonly #opts: SubscriberQueuesOptions;
  #closing: Promise<void> | undefined;

  constructor(opts: SubscriberQueuesOptions) {
    this.#opts = opts;
  }

  queue(sub: Subscriber): Queue {
    // By queue name, not subscriber name: a name deleted and created again as the other kind has another queue.
    const name = subscriberQueueName(sub, this.#opts.cluster);
    let q = this.#queues.get(name);
    if (!q) {
      const { connection, prefix, telemetry } = this.#opts;
      q = new Queue(name, { connection, prefix, ...(telemetry ? { telemetry } : {}) });
      q.on('error', () => undefined); // connection errors surface on the calls that fail
      this.#queues.set(name, q);
    }
    return q;
  }

  /**
   * Adds the event for one subscriber; false when it was already there (a redelivered callback).
   * The add itself is one BullMQ Lua call that checks the job id and the deduplication key, so a
   * duplicate never becomes a second job. BullMQ returns the same job id either way, so "new or not"
   * is read from those two keys just before: exact, except that two copies of one callback racing
   * within milliseconds may both count as new (the metric is off by one; delivery is not).
   */
  async add(sub: Subscriber, event: RelayEvent): Promise<boolean> {
    const q = this.queue(sub);
    const existed = await this.#opts.connection.exists(q.toKey(event.id), q.toKey(`de:${event.id}`));
    await q.add(event.type, event, subscriberJobOptions(sub, event, this.#opts));
    return existed === 0;
  }

  /** Idempotent; leaves the shared connection open. */
  close(): Promise<void> {
    this.#closing ??= Promise.allSettled([...this.#queues.values()].map((q) => q.close())).then(() => undefined);
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
