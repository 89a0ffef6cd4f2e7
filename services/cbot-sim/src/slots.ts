/** A counting semaphore with a FIFO of waiters that stays O(1) per operation at any backlog. */
export class Slots {
  readonly #max: number;
  #used = 0;
  #waiters: Array<(granted: boolean) => void> = [];
  #head = 0;

  constructor(max: number) {
    this.#max = max;
  }

  /** Resolves true when a slot is taken, false when the slots were closed meanwhile. */
  acquire(): Promise<boolean> {
    if (this.#used < this.#max) {
      this.#used += 1;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  release(): void {
    const next = this.#waiters[this.#head];
    if (next === undefined) {
      this.#used -= 1;
      return;
    }
    this.#waiters[this.#head] = undefined as never;
    this.#head += 1;
    // Compact once the consumed prefix dominates, so memory follows the live backlog.
    if (this.#head > 1024 && this.#head * 2 > this.#waiters.length) {
      this.#waiters = this.#waiters.slice(this.#head);
      this.#head = 0;
    }
    next(true);
  }

  /** Fails every waiter. */
  close(): void {
    const waiters = this.#waiters.slice(this.#head);
    this.#waiters = [];
    this.#head = 0;
    for (const w of waiters) w(false);
  }
}
