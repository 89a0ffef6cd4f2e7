import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

/**
 * Test-only: what an outsider can see of one relay queue, for waiting on state instead of time.
 * Opens its own connection; close() it.
 */
export class QueueState {
  readonly #redis: Redis;
  readonly #queue: Queue;

  constructor(redisUrl: string, prefix: string, name: string) {
    this.#redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
    this.#queue = new Queue(name, { connection: this.#redis, prefix });
  }

  /** Jobs not finished yet: waiting, active, delayed or prioritized. */
  async pending(): Promise<number> {
    const c = await this.#queue.getJobCounts('wait', 'active', 'delayed', 'prioritized');
    return Object.values(c).reduce((a, b) => a + b, 0);
  }

  async failed(): Promise<number> {
    return this.#queue.getFailedCount();
  }

  async completed(): Promise<number> {
    return this.#queue.getCompletedCount();
  }

  async close(): Promise<void> {
    await this.#queue.close();
    this.#redis.disconnect();
  }
}
