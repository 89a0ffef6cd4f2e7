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
  readonly #maxInFlight: number;
  #waiting: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  #inFlight = 0;
  #scheduled = false;

  constructor(run: (items: I[]) => Promise<(O | Error)[]>, opts: { maxBatch?: number; maxInFlight?: number } = {}) {
    this.#run = run;
    this.#maxBatch = opts.maxBatch ?? 100;
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

  #flush(): void {
    while (this.#inFlight < this.#maxInFlight && this.#waiting.length > 0) {
      const batch = this.#waiting.splice(0, this.#maxBatch);
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
