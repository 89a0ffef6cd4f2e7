import type { Queue } from 'bullmq';

/** A BullMQ queue's job counts by state (BullMQ's public `getJobCounts`). */
export interface QueueCounts {
  waiting: number;
  prioritized: number;
  active: number;
  delayed: number;
  failed: number;
  completed: number;
}

export async function queueCounts(q: Queue): Promise<QueueCounts> {
  const c = await q.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed', 'completed');
  return {
    waiting: c.waiting ?? 0,
    prioritized: c.prioritized ?? 0,
    active: c.active ?? 0,
    delayed: c.delayed ?? 0,
    failed: c.failed ?? 0,
    completed: c.completed ?? 0,
  };
}

/** Jobs not yet done: waiting (incl. prioritized), active and delayed (retries waiting their backoff). */
export function depth(c: QueueCounts): number {
  return c.waiting + c.prioritized + c.active + c.delayed;
}
