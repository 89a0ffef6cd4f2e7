/**
 * Turns concurrent calls into few round trips. A call made while a batch is in flight waits and goes
 * with every other call made meanwhile in the next batch, so under load each round trip carries many
 * calls and under light load a call goes at once (it only waits for the current microtasks).
 *
 * `run` answers per item, in order: a value, or an Error for that item alone. When `run` itself
 * fails, every item of its batch fails with that error.
 */
export class Coalescer<I, O> {
  readonly #run: (items: I[]) => Promise<(O | Error)[]>;
  readonly #maxBatch: number;
  readonly #maxBatchWeight: number;
  readonly #weigh: (item: I) => number;
  readonly #maxInFlight: number;
  #waiting: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  #inFlight = 0;
  #scheduled = false;

  /**
   * A batch holds at most `maxBatch` items and, past its first item, at most `maxBatchWeight` in
   * total by `weigh` (e.g. bytes, so a few large bodies do not make one huge script call).
   */
  constructor(
    run: (items: I[]) => Promise<(O | Error)[]>,
    opts: { maxBatch?: number; maxBatchWeight?: number; weigh?: (item: I) => number; maxInFlight?: number } = {},
  ) {
    this.#run = run;
    this.#maxBatch = opts.maxBatch ?? 100;
    this.#maxBatchWeight = opts.maxBatchWeight ?? Infinity;
    this.#weigh = opts.weigh ?? (() => 0);
    this.#maxInFlight = opts.maxInFlight ?? 1;
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#waiting.push({ item, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight >= this.#maxInFlight || this.#waiting.length === 0) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#flush();
    });
  }

  #batchLength(): number {
    let n = 0;
    let weight = 0;
    for (const w of this.#waiting) {
      if (n === this.#maxBatch) break;
      weight += this.#weigh(w.item);
      if (n > 0 && weight > this.#maxBatchWeight) break;
      n++;
    }
    return n;
  }

  #flush(): void {
    while (this.#inFlight < this.#maxInFlight && this.#waiting.length > 0) {
      const batch = this.#waiting.splice(0, this.#batchLength());
      this.#inFlight++;
      let answers: Promise<(O | Error)[]>;
      try {
        answers = this.#run(batch.map((w) => w.item));
      } catch (err) {
        answers = Promise.reject(err);
      }
      answers
        .then(
          (out) => {
            batch.forEach((w, i) => {
              const o = out[i];
              if (i >= out.length) w.reject(new Error(`Coalescer: a batch answered ${out.length} of ${batch.length} items`));
              else if (o instanceof Error) w.reject(o);
              else w.resolve(o as O);
            });
          },
          (err: unknown) => {
            for (const w of batch) w.reject(err);
          },
        )
        .finally(() => {
          this.#inFlight--;
          this.#schedule();
        });
    }
  }
}

/** Payload (bodies, job data) per batch call (Coalescer's maxBatchWeight), past its first item: large items go in calls of their own. */
export const MAX_BATCH_CHARS = 1 << 20;
