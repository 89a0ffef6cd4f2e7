import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

/**
 * Test-only: what an outsider can see of one relay queue, for waiting on state instead of time.
 * Opens its own connection; close() it.
 */
export class QueueState {
  readonly #redis: Redis;
  readonly #queue: Queue;
  readonly #idKey: string;

  constructor(redisUrl: string, prefix: string, name: string) {
    this.#redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
    this.#queue = new Queue(name, { connection: this.#redis, prefix });
    this.#idKey = `${prefix}:${name}:id`;
  }

  /** Jobs not finished yet: waiting, active, delayed, prioritized or paused. */
  async pending(): Promise<number> {
    const c = await this.#queue.getJobCounts('wait', 'active', 'delayed', 'prioritized', 'paused');
    return Object.values(c).reduce((a, b) => a + b, 0);
  }

  async failed(): Promise<number> {
    return this.#queue.getFailedCount();
  }

  async completed(): Promise<number> {
    return this.#queue.getCompletedCount();
  }

  /** Jobs BullMQ ever numbered on this queue (its id counter), removed ones included. */
  async added(): Promise<number> {
    return Number((await this.#redis.get(this.#idKey)) ?? 0);
  }

  async close(): Promise<void> {
    await this.#queue.close();
    this.#redis.disconnect();
  }
}
