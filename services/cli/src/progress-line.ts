/** Counts of a replay run, as the summary line and `--json` report them. */
export interface ReplayCounts {
  replayed: number;
  skipped: number;
  failed: number;
  notFound: number;
}

const WIDTH = 24;
const REDRAW_MS = 100;

/**
 * One self-redrawing line on a terminal (`\r`, no newline until done): `replaying 120/5000
 * [===…   ] 2% · replayed 118 · skipped 2 · failed 0`. Draws nothing unless the stream is a TTY and
 * the run is long enough to need it, so pipes and logs get only the summary line.
 */
export class ProgressLine {
  readonly #out: NodeJS.WritableStream & { isTTY?: boolean };
  readonly #total: number;
  readonly #on: boolean;
  readonly #now: () => number;
  #last = 0;
  #drawn = false;

  constructor(opts: { out: NodeJS.WritableStream & { isTTY?: boolean }; total: number; minTotal?: number; now?: () => number }) {
    this.#out = opts.out;
    this.#total = opts.total;
    this.#now = opts.now ?? Date.now;
    this.#on = opts.out.isTTY === true && opts.total >= (opts.minTotal ?? 20);
  }

  /** Redraws at most every 100 ms, and always at the last item. */
  update(done: number, counts: ReplayCounts): void {
    if (!this.#on) return;
    const t = this.#now();
    if (done < this.#total && this.#drawn && t - this.#last < REDRAW_MS) return;
    this.#last = t;
    this.#drawn = true;
    this.#out.write(`\r${renderProgress(done, this.#total, counts)}\u001b[K`);
  }

  /** Ends the line so the summary starts on its own. */
  done(): void {
    if (this.#drawn) this.#out.write('\n');
  }
}

export function renderProgress(done: number, total: number, c: ReplayCounts): string {
  const frac = total === 0 ? 1 : Math.min(1, done / total);
  const filled = Math.round(frac * WIDTH);
  const bar = `${'='.repeat(filled)}${' '.repeat(WIDTH - filled)}`;
  return `replaying ${done}/${total} [${bar}] ${Math.floor(frac * 100)}% · ${summary(c)}`;
}

export function summary(c: ReplayCounts): string {
  return `replayed ${c.replayed} · skipped ${c.skipped} · failed ${c.failed}${c.notFound > 0 ? ` · not found ${c.notFound}` : ''}`;
}
