/** Tracks sleeps so close() can cancel every pending one at once. */
export class Timers {
  readonly #pending = new Map<NodeJS.Timeout, (completed: boolean) => void>();
  #closed = false;

  get closed(): boolean {
    return this.#closed;
  }

  /** Resolves true after `ms`, or false at once if (or when) the timers are closed. */
  sleep(ms: number): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#pending.delete(timer);
        resolve(true);
      }, Math.max(0, ms));
      this.#pending.set(timer, resolve);
    });
  }

  /** Cancels pending sleeps (they resolve false) without closing; used by reset. */
  cancelAll(): void {
    for (const [timer, resolve] of this.#pending) {
      clearTimeout(timer);
      resolve(false);
    }
    this.#pending.clear();
  }

  close(): void {
    this.#closed = true;
    this.cancelAll();
  }
}
