/**
 * Everything a scenario starts registers its stop step here, so a failed assertion, the overall
 * deadline or Ctrl-C still stops every child process and removes every temp dir before the suite exits.
 */
export class Teardown {
  readonly #steps: { what: string; stop: () => Promise<unknown> }[] = [];
  #running: Promise<void> | undefined;

  /** Registers `stop` and returns `value`, so a start can be wrapped in one line. */
  add<T>(what: string, value: T, stop: (v: T) => Promise<unknown>): T {
    if (this.#running) {
      // Started after teardown began (a replacement racing Ctrl-C): stop it at once.
      void stop(value).catch(() => undefined);
      return value;
    }
    this.#steps.push({ what, stop: () => stop(value) });
    return value;
  }

  /** Stops in reverse order of start; one failing step never skips the others. Idempotent. */
  run(): Promise<void> {
    this.#running ??= (async () => {
      for (const step of this.#steps.reverse()) {
        await step.stop().catch((err: unknown) => console.error(`faults: stopping ${step.what} failed: ${String(err)}`));
      }
    })();
    return this.#running;
  }
}
