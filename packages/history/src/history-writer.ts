import type { HistoryDb, HistoryRecord } from './history-db.js';

/** A record that changed in Redis and is not yet in PostgreSQL: its id and the change's mark. */
export interface DirtyEntry {
  id: string;
  mark: number;
}

/**
 * Where changed records wait for the writer (in Redis: a sorted set per partition, written in the
 * same Lua step as each record change, so no change is missed by a crash).
 */
export interface DirtySource {
  /** Up to `n` entries, oldest change first. */
  take(n: number): Promise<DirtyEntry[]>;
  /** The records as they are now; ids whose record is gone (expired) are left out. */
  records(ids: string[]): Promise<HistoryRecord[]>;
  /** Removes each entry unless its record changed again meanwhile (its mark moved). */
  done(entries: DirtyEntry[]): Promise<void>;
}

export interface HistoryWriterOptions {
  db: Pick<HistoryDb, 'upsert'>;
  /** One per outbound partition. */
  sources: DirtySource[];
  /** Records per PostgreSQL statement. */
  batch?: number;
  /** Wait after a pass that found nothing (ms). */
  idleMs?: number;
  /** First wait after a failed pass (ms); doubles to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
  onError?: (err: unknown) => void;
  onWritten?: (n: number) => void;
}

/**
 * Copies changed records from Redis to PostgreSQL, off the hot path: take a batch of dirty ids, read
 * their records, upsert them, then mark them done — only after the upsert, so a crash or a failed
 * statement leaves them dirty and the next pass (here or in another process) writes them again. The
 * upsert is idempotent and keeps the newest version, so writing twice, or two writers racing, is harmless.
 * A failing database is retried with backoff (1 s doubling to 30 s by default) for as long as it fails.
 */
export class HistoryWriter {
  readonly #o: Required<Omit<HistoryWriterOptions, 'onError' | 'onWritten'>> & Pick<HistoryWriterOptions, 'onError' | 'onWritten'>;
  #stopping = false;
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;

  constructor(opts: HistoryWriterOptions) {
    this.#o = { batch: 500, idleMs: 1_000, backoffMs: 1_000, maxBackoffMs: 30_000, ...opts };
  }

  /** One pass over every source: returns how many records it wrote. */
  async pass(): Promise<number> {
    let written = 0;
    for (const source of this.#o.sources) {
      const entries = await source.take(this.#o.batch);
      if (entries.length === 0) continue;
      const records = await source.records(entries.map((e) => e.id));
      await this.#o.db.upsert(records);
      await source.done(entries);
      this.#o.onWritten?.(records.length);
      written += records.length;
    }
    return written;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#stopping) {
      let wait = 0;
      try {
        const n = await this.pass();
        failures = 0;
        if (n === 0) wait = this.#o.idleMs;
      } catch (err) {
        this.#o.onError?.(err);
        wait = Math.min(this.#o.maxBackoffMs, this.#o.backoffMs * 2 ** failures);
        failures += 1;
      }
      if (wait > 0 && !this.#stopping) await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, wait);
        this.#wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  /** Stops after the pass in progress (its records are written, or stay dirty). Idempotent. */
  async close(): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    await this.#loop;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
