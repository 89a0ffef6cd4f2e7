import type { ServerResponse } from 'node:http';
import { HttpError } from './http-error.js';

const HELD = Symbol('bodyBytesHeld');

/**
 * Bytes of request bodies held by the ingress at once (INGRESS_BODY_BUFFER_BYTES). Connection caps
 * alone still let 1,024 callers each park a 1 MiB callback in memory; past this budget a read is
 * refused with 503 (CBOT and callers retry) instead of the process running out of memory.
 */
export class BodyBudget {
  #used = 0;

  constructor(readonly limit: number) {}

  get used(): number {
    return this.#used;
  }

  /**
   * Charges `bytes` to the request answered by `res` (all of it comes back when `res` closes);
   * throws a 503 when the budget has no room.
   */
  charge(res: ServerResponse, bytes: number): void {
    if (this.#used + bytes > this.limit) {
      throw new HttpError(503, 'busy', 'too many request bodies in flight; retry later', [], { 'Retry-After': '1', Connection: 'close' });
    }
    this.#used += bytes;
    const held = res as ServerResponse & { [HELD]?: number };
    if (held[HELD] === undefined) {
      held[HELD] = 0;
      res.once('close', () => {
        this.#used -= held[HELD] ?? 0;
        held[HELD] = 0;
      });
    }
    held[HELD] += bytes;
  }
}
