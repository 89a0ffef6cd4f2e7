import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { PartitionKeys } from '@cbot-relay/records';
import { HTTP_SUBSCRIBER, QUEUE_SUBSCRIBER } from './cluster.js';

const OPEN_STATES = ['wait', 'active', 'delayed', 'prioritized', 'waiting-children'] as const;

/**
 * The relay's queues seen from outside (BullMQ on the same Redis): a scenario is drained only when
 * no job is left open anywhere, so nothing can still turn into a late duplicate after counting.
 */
export class RelayQueues {
  readonly #queues: Queue[];
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(connection: Redis, prefix: string) {
    this.#redis = connection;
    this.#prefix = prefix;
    const names = [
      'inbound',
      `push.${HTTP_SUBSCRIBER}`,
      `events.${QUEUE_SUBSCRIBER}`,
    ];
    this.#queues = names.map((n) => {
      const q = new Queue(n, { connection, prefix });
      q.on('error', () => undefined);
      return q;
    });
  }

  /**
   * Open jobs (waiting, active, delayed …) and failed jobs, per queue name, only the non-zero ones; the
   * outbound side counts as `outbound`: messages accepted and not yet sent, failed or expired.
   */
  async counts(): Promise<{ open: number; failed: number; byQueue: Record<string, { open: number; failed: number }> }> {
    let open = await this.#redis.zcard(new PartitionKeys(this.#prefix).open);
    let failed = 0;
    const byQueue: Record<string, { open: number; failed: number }> = open > 0 ? { outbound: { open, failed: 0 } } : {};
    for (const q of this.#queues) {
      const c = await q.getJobCounts(...OPEN_STATES, 'failed');
      const o = OPEN_STATES.reduce((n, s) => n + (c[s] ?? 0), 0);
      const f = c.failed ?? 0;
      open += o;
      failed += f;
      if (o + f > 0) byQueue[q.name] = { open: o, failed: f };
    }
    return { open, failed, byQueue };
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.#queues.map((q) => q.close()));
  }
}
