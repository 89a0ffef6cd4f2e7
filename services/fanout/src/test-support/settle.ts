import type { Queue } from 'bullmq';

/** Test-only: jobs a queue has not finished (waiting, active, delayed or prioritized). */
export async function pending(queue: Queue): Promise<number> {
  const c = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized');
  return Object.values(c).reduce((a, b) => a + b, 0);
}

/** Test-only: true once none of the queues has unfinished jobs. */
export async function allSettled(queues: readonly Queue[]): Promise<boolean> {
  for (const q of queues) if ((await pending(q)) > 0) return false;
  return true;
}
