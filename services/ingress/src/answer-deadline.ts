import { HttpError } from './http-error.js';

/** REDIS_ANSWER_TIMEOUT_MS default: a send or callback is answered within this of its body arriving. */
export const DEFAULT_ANSWER_TIMEOUT_MS = 2_000;

/**
 * Redis did not answer in time. Unlike UnavailableError, the write may still happen once Redis
 * answers (a frozen Redis runs what it was sent when it thaws): the message says so, and a retry
 * with the same Idempotency-Key (a send) or CBOT's redelivery (a callback, deduplicated) is safe.
 */
export class AnswerTimeoutError extends HttpError {
  constructor(what: 'send' | 'callback') {
    super(
      503,
      'unavailable',
      what === 'send'
        ? 'storage did not answer in time; the message may still be accepted: retry with the same Idempotency-Key'
        : 'storage did not answer in time; send the callback again',
      [],
      { 'Retry-After': '1' },
    );
  }
}

/**
 * How long one request may wait on Redis (REDIS_ANSWER_TIMEOUT_MS), counted from its arrival, with
 * the time spent waiting for the client's body left out: the answer comes at most `ms` after the
 * body is in, however slow the client was. Pure apart from `now`.
 */
export class AnswerDeadline {
  #deadline: number;
  #readingSince: number | undefined;

  constructor(
    readonly ms: number,
    private readonly now: () => number = performance.now.bind(performance),
  ) {
    this.#deadline = now() + ms;
  }

  /** The body read starts: its time is not counted. */
  pause(): void {
    this.#readingSince ??= this.now();
  }

  /** The body is in. */
  resume(): void {
    if (this.#readingSince === undefined) return;
    this.#deadline += this.now() - this.#readingSince;
    this.#readingSince = undefined;
  }

  /** Milliseconds left (0 when past). */
  get remainingMs(): number {
    return Math.max(0, this.#deadline - this.now());
  }

  /**
   * `work`'s result, or `onLate()`'s error once the time is up. `work` is not cancelled (Redis may
   * still run it): callers answer only what is true either way.
   */
  within<T>(work: Promise<T>, onLate: () => Error): Promise<T> {
    const left = this.remainingMs;
    if (left <= 0) {
      work.catch(() => undefined);
      return Promise.reject(onLate());
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(onLate()), left);
    });
    return Promise.race([work, late]).finally(() => clearTimeout(timer));
  }
}
