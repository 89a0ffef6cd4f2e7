import type { JobsOptions, Queue } from 'bullmq';
import { Coalescer, MAX_BATCH_CHARS } from './coalescer.js';

/**
 * `queue.add(name, data, opts)` for many concurrent callers: adds made while a batch is in Redis go
 * together in the next `queue.addBulk` (one round trip, one MULTI). Each call resolves with its job id
 * once Redis has the job; a failed batch fails each of its calls, and nothing of it was added.
 */
export class BulkJobAdder<T> {
  readonly #queue: Queue;
  readonly #name: string;
  readonly #opts: JobsOptions;
  readonly #adds: Coalescer<{ data: T; opts: JobsOptions | undefined }, string>;

  constructor(queue: Queue, name: string, opts: JobsOptions, batch: { maxBatch?: number; maxBatchWeight?: number } = {}) {
    this.#queue = queue;
    this.#name = name;
    this.#opts = opts;
    // Job data is the bulk of a call; a few large payloads go in calls of their own.
    this.#adds = new Coalescer((items) => this.#addBatch(items), {
      maxBatchWeight: MAX_BATCH_CHARS,
      ...batch,
      weigh: (item) => JSON.stringify(item.data).length,
    });
  }

  /** `opts` are merged over the adder's own for this job only (e.g. its telemetry metadata). */
  add(data: T, opts?: JobsOptions): Promise<string> {
    return this.#adds.submit({ data, opts });
  }

  async #addBatch(items: { data: T; opts: JobsOptions | undefined }[]): Promise<(string | Error)[]> {
    const jobs = await this.#queue.addBulk(
      items.map(({ data, opts }) => ({ name: this.#name, data, opts: opts === undefined ? this.#opts : { ...this.#opts, ...opts } })),
    );
    return jobs.map((job) => job.id ?? new Error('job add failed: no job id'));
  }
}
