import { Queue } from 'bullmq';
import type { ConnectionOptions } from 'bullmq';
import type { OutboundJob } from './catalog.js';
import { QueueNames, queueNameFor } from './catalog.js';
import { laneFor } from './lanes.js';
import type { StandardJobCall } from './standard-job-call.js';
import { StandardJobCalls } from './standard-job-call.js';

const LANE_JOB_OPTS = { removeOnComplete: true, removeOnFail: { age: 7 * 86_400 } } as const;

export interface OutboundLanesOptions {
  connection: ConnectionOptions;
  prefix: string;
  lanes: number;
  cluster?: boolean;
}

/**
 * The outbound queue, split into lanes. A recipient always maps to one lane and each lane runs one
 * job at a time across every dispatcher (BullMQ global concurrency 1), so one recipient's messages
 * leave in the order they were accepted while different lanes proceed in parallel.
 */
export class OutboundLanes {
  readonly #queues = new Map<number, Queue>();
  readonly #jobCalls = new Map<number, StandardJobCalls>();
  readonly #opts: OutboundLanesOptions;
  #closed = false;

  constructor(opts: OutboundLanesOptions) {
    this.#opts = opts;
  }

  get count(): number {
    return this.#opts.lanes;
  }

  laneOf(recipient: string): number {
    return laneFor(recipient, this.#opts.lanes);
  }

  name(lane: number): string {
    return queueNameFor(QueueNames.lane(lane), this.#opts.cluster ?? false);
  }

  queue(lane: number): Queue {
    let q = this.#queues.get(lane);
    if (!q) {
      // Nothing listens to lane events; a short stream keeps Redis memory per queued message low.
      q = new Queue(this.name(lane), { connection: this.#opts.connection, prefix: this.#opts.prefix, streams: { events: { maxLen: 100 } } });
      q.on('error', () => undefined); // connection errors surface on the calls that fail
      this.#queues.set(lane, q);
    }
    return q;
  }

  /**
   * The addStandardJob call for a script that adds the job in the same atomic step as its own writes.
   * BullMQ numbers the job: with no custom id its stored options stay under Redis's compact-hash
   * limit (64-byte values), which halves the job's memory.
   */
  jobCall(job: OutboundJob): StandardJobCall {
    const lane = this.laneOf(job.to);
    let calls = this.#jobCalls.get(lane);
    if (!calls) {
      calls = new StandardJobCalls(this.queue(lane), 'm', LANE_JOB_OPTS);
      this.#jobCalls.set(lane, calls);
    }
    return calls.call(job);
  }

  /** Waiting + active + delayed over every lane. */
  async depth(): Promise<number> {
    let total = 0;
    for (let i = 0; i < this.#opts.lanes; i++) {
      const c = await this.queue(i).getJobCounts('wait', 'active', 'delayed', 'paused', 'prioritized');
      total += Object.values(c).reduce((a, b) => a + b, 0);
    }
    return total;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#queues.values()].map((q) => q.close()));
  }
}
