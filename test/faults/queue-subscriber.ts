import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { eventKey, isOtherEvent } from './event-key.js';

/**
 * The queue subscriber, talking to BullMQ directly as the contract allows (`events.<name>` under the
 * relay's QUEUE_PREFIX, one job per event, job id = event id). It never fails a job, so every
 * delivery it sees is a distinct job run.
 */
export class QueueSubscriber {
  /** event id → event key. */
  readonly keyOf = new Map<string, string>();
  /** event id → how often a job with that id was processed (twice is a duplicate job). */
  readonly runs = new Map<string, number>();
  /** [consumed at ms, ms since the relay received the callback], for lag checks. */
  readonly lags: [number, number][] = [];
  unparsable = 0;
  readonly #worker: Worker;
  readonly #connection: Redis;

  constructor(opts: { redisUrl: string; prefix: string; name: string }) {
    this.#connection = new Redis(opts.redisUrl, { maxRetriesPerRequest: null, retryStrategy: (n) => Math.min(n * 50, 1_000) });
    // Redis restarts are part of the suite: the client reconnects by itself, errors are expected noise.
    this.#connection.on('error', () => undefined);
    this.#worker = new Worker(
      `events.${opts.name}`,
      async (job) => {
        const id = job.id ?? '';
        const event = job.data as { type?: unknown; data?: unknown; receivedAt?: unknown };
        if (isOtherEvent(event)) return;
        const key = eventKey(event);
        if (key === undefined) this.unparsable++;
        else this.keyOf.set(id, key);
        this.runs.set(id, (this.runs.get(id) ?? 0) + 1);
        const received = typeof event.receivedAt === 'string' ? Date.parse(event.receivedAt) : NaN;
        if (!Number.isNaN(received)) this.lags.push([Date.now(), Date.now() - received]);
      },
      { connection: this.#connection, prefix: opts.prefix, concurrency: 16 },
    );
    this.#worker.on('error', () => undefined);
  }

  async close(): Promise<void> {
    await this.#worker.close(true).catch(() => undefined);
    this.#connection.disconnect();
  }
}
