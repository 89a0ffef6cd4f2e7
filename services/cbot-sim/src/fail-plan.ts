import type { SimKnobs } from './knobs.js';
import type { SimFailureStatus } from './wa-errors.js';

/**
 * One scripted failure: an HTTP status with its usual body, or a WhatsApp `code` — answered as the
 * send's error (`mode: 'answer'`, HTTP `status` or 400, Retry-After `retryAfter` seconds when given),
 * or accepted with 200 and reported afterwards in a `failed` status callback (`mode: 'callback'`).
 */
export interface SimFailure {
  status?: SimFailureStatus;
  code?: number;
  mode: 'answer' | 'callback';
  retryAfter?: number;
}

interface Scripted {
  failure: SimFailure;
  remaining: number;
}

const mixStatuses = ['500', '429', '400'] as const;

/** Decides which /v1/messages calls fail: scripted failures first, then the random error rate. */
export class FailPlan {
  readonly #queue: Scripted[] = [];
  readonly #random: () => number;

  constructor(random: () => number) {
    this.#random = random;
  }

  failNext(status: SimFailureStatus | SimFailure, count: number): void {
    const failure: SimFailure = typeof status === 'number' ? { status, mode: 'answer' } : status;
    if (count > 0) this.#queue.push({ failure, remaining: count });
  }

  pending(): Array<{ status?: SimFailureStatus; code?: number; mode?: 'answer' | 'callback'; retryAfter?: number; count: number }> {
    return this.#queue.map(({ failure: f, remaining }) =>
      f.code === undefined ? { status: f.status!, count: remaining } : { ...f, count: remaining },
    );
  }

  clear(): void {
    this.#queue.length = 0;
  }

  /** The failure for the next call, or undefined when it should succeed. */
  next(knobs: SimKnobs, now: number): SimFailure | undefined {
    if (knobs.outageUntil > now) return { status: 503, mode: 'answer' };
    const head = this.#queue[0];
    if (head) {
      head.remaining -= 1;
      if (head.remaining <= 0) this.#queue.shift();
      return head.failure;
    }
    if (knobs.errorRate > 0 && this.#random() < knobs.errorRate) return { status: this.#pickFromMix(knobs.errorMix), mode: 'answer' };
    return undefined;
  }

  #pickFromMix(mix: SimKnobs['errorMix']): SimFailureStatus {
    let total = 0;
    for (const s of mixStatuses) total += mix[s] ?? 0;
    let r = this.#random() * total;
    for (const s of mixStatuses) {
      const w = mix[s] ?? 0;
      if (w > 0 && r < w) return Number(s) as SimFailureStatus;
      r -= w;
    }
    return 500;
  }
}
