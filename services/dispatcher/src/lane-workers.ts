import { UnrecoverableError, Worker } from 'bullmq';
import type { ConnectionOptions, Job } from 'bullmq';
import type { Logger } from '@cbot-relay/observability';
import { OutboundJob } from '@cbot-relay/queues';
import type { OutboundLanes } from '@cbot-relay/queues';
import type { DispatchDeps } from './dispatch-message.js';
import { dispatchMessage } from './dispatch-message.js';

export interface LaneWorkersOptions {
  connection: ConnectionOptions;
  prefix: string;
  lanes: OutboundLanes;
  deps: DispatchDeps;
  /**
   * Must outlive one whole attempt even if lock renewal stalls: CBOT timeout + in-attempt retries
   * (≤ 2 × 2 s connect + 0.4 s) + margin. The dispatcher passes CBOT_TIMEOUT_MS + 10 s.
   */
  lockDurationMs: number;
  /** How often a worker looks for jobs whose worker died (their lock expired). */
  stalledIntervalMs?: number;
  log: Logger;
}

/**
 * One BullMQ worker per lane, concurrency 1, and each lane queue's global concurrency set to 1: at
 * most one message per lane is in flight across every dispatcher process.
 *
 * A retry must not let the next message of the same recipient overtake, so a failed attempt is not
 * a BullMQ failure (that would move the job to "delayed" and free the lane). Instead the lane is
 * rate-limited for the backoff and the job goes back to the head of its wait list
 * (`Worker.RateLimitError`), which also leaves BullMQ's attempt counter alone: the record counts.
 */
export class LaneWorkers {
  readonly #workers: Worker[] = [];
  readonly #opts: LaneWorkersOptions;
  #closing: Promise<void> | undefined;

  private constructor(opts: LaneWorkersOptions) {
    this.#opts = opts;
  }

  static async start(opts: LaneWorkersOptions): Promise<LaneWorkers> {
    const lw = new LaneWorkers(opts);
    for (let lane = 0; lane < opts.lanes.count; lane++) {
      await opts.lanes.queue(lane).setGlobalConcurrency(1);
      lw.#workers.push(lw.#worker(lane));
    }
    return lw;
  }

  #worker(lane: number): Worker {
    const { lanes, deps, log } = this.#opts;
    const queue = lanes.queue(lane);
    const worker = new Worker(
      lanes.name(lane),
      async (job: Job) => {
        const parsed = OutboundJob.safeParse(job.data);
        if (!parsed.success) throw new UnrecoverableError('invalid outbound job payload');
        let result;
        try {
          result = await dispatchMessage(deps, parsed.data);
        } catch (err) {
          // Redis hiccup or a bug: keep the message at the head of its lane and try again shortly.
          log.error({ err, relayId: parsed.data.id, lane }, 'dispatch step failed; holding the lane for 1 s');
          result = { kind: 'hold' as const, ms: 1_000 };
        }
        if (result.kind === 'hold') {
          await queue.rateLimit(Math.max(1, result.ms)).catch(() => undefined);
          throw Worker.RateLimitError();
        }
      },
      {
        connection: this.#opts.connection,
        prefix: this.#opts.prefix,
        concurrency: 1,
        lockDuration: this.#opts.lockDurationMs,
        stalledInterval: this.#opts.stalledIntervalMs ?? 5_000,
        // A job whose worker keeps dying is retried this many times before BullMQ fails it.
        maxStalledCount: 50,
        // Manual lane holds (queue.rateLimit) only take effect when a limiter is configured; this one never binds.
        limiter: { max: 1_000_000, duration: 1_000 },
      },
    );
    worker.on('error', (err) => log.error({ err, lane }, 'lane worker error'));
    worker.on('failed', (job, err) => {
      if (!job) return;
      const id = (job.data as { id?: unknown }).id;
      log.error({ err, relayId: id, lane }, 'outbound job failed outside the retry policy');
      if (typeof id === 'string') {
        void deps.store
          .finish(id, deps.now(), { outcome: 'failed', error: { message: `dispatcher gave up: ${err.message}` } })
          .catch((e: unknown) => log.error({ err: e, relayId: id }, 'could not mark message failed'));
      }
    });
    return worker;
  }

  get running(): boolean {
    return this.#closing === undefined && this.#workers.every((w) => w.isRunning());
  }

  /** Stops taking jobs and waits for in-flight sends to be recorded. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= Promise.allSettled(this.#workers.map((w) => w.close())).then(() => undefined);
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
