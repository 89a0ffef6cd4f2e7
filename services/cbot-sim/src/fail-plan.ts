import type { SimKnobs } from './knobs.js';
import type { SimFailureStatus } from './wa-errors.js';

interface Scripted {
  status: SimFailureStatus;
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

  failNext(status: SimFailureStatus, count: number): void {
    if (count > 0) this.#queue.push({ status, remaining: count });
  }

  pending(): Array<{ status: SimFailureStatus; count: number }> {
    return this.#queue.map((s) => ({ status: s.status, count: s.remaining }));
  }

  clear(): void {
    this.#queue.length = 0;
  }

  /** The failure status for the next call, or undefined when it should succeed. */
  next(knobs: SimKnobs, now: number): SimFailureStatus | undefined {
    if (knobs.outageUntil > now) return 503;
    const head = this.#queue[0];
    if (head) {
      head.remaining -= 1;
      if (head.remaining <= 0) this.#queue.shift();
      return head.status;
    }
    if (knobs.errorRate > 0 && this.#random() < knobs.errorRate) return this.#pickFromMix(knobs.errorMix);
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
