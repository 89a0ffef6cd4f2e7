import type { Queue } from 'bullmq';
import type { Logger, Metrics } from '@cbot-relay/observability';

/**
 * Samples waiting + active + delayed jobs of each queue into `relay_queue_depth{queue}` every
 * `intervalMs`. A failed sample is logged at debug and skipped: the gauge keeps its last value.
 */
export class QueueDepthSampler {
  readonly #timer: NodeJS.Timeout;
  #closed = false;

  constructor(queues: readonly Queue[], metrics: Pick<Metrics, 'queueDepth'>, intervalMs: number, log: Logger) {
    const sample = async () => {
      for (const q of queues) {
        if (this.#closed) return;
        try {
          const c = await q.getJobCounts('wait', 'active', 'delayed', 'prioritized');
          const depth = Object.values(c).reduce((a, b) => a + b, 0);
          metrics.queueDepth.set({ queue: q.name }, depth);
        } catch (err) {
          log.debug({ err, queue: q.name }, 'queue depth sample failed');
        }
      }
    };
    this.#timer = setInterval(() => void sample(), intervalMs);
    this.#timer.unref();
    void sample();
  }

  /** Idempotent. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
