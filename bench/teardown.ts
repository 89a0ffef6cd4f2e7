/**
 * Everything the bench starts registers its stop function here, so a failure, a deadline or Ctrl-C
 * still stops every child (Redis, simulators, relay processes, the baseline) before the bench exits.
 */
export class Teardown {
  readonly #steps: { what: string; stop: () => Promise<unknown> }[] = [];
  #running: Promise<void> | undefined;

  /** Registers `stop` and returns the value, so a start can be wrapped in one line. */
  add<T>(what: string, value: T, stop: (v: T) => Promise<unknown>): T {
    this.#steps.push({ what, stop: () => stop(value) });
    return value;
  }

  /** Stops in reverse order of start; one failing step never skips the others. Idempotent. */
  run(): Promise<void> {
    this.#running ??= (async () => {
      for (const step of this.#steps.reverse()) {
        await step.stop().catch((err: unknown) => console.error(`bench: stopping ${step.what} failed: ${String(err)}`));
      }
    })();
    return this.#running;
  }

  /**
   * Ctrl-C, SIGTERM and the overall deadline all end in run(); a second Ctrl-C exits at once (the
   * children were already sent their signals by then).
   */
  installSignalHandlers(deadlineMs: number): void {
    let signalled = false;
    const bail = (why: string) => {
      if (signalled) process.exit(130);
      signalled = true;
      console.error(`\nbench: ${why}; stopping everything it started`);
      void this.run().finally(() => process.exit(130));
    };
    process.on('SIGINT', () => bail('interrupted'));
    process.on('SIGTERM', () => bail('terminated'));
    setTimeout(() => bail(`over the ${Math.round(deadlineMs / 1000)} s deadline`), deadlineMs).unref();
  }
}
