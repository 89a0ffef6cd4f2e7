import type { IncomingHttpHeaders } from 'node:http';

/**
 * What became of the answer to an accepted message, as far as the simulator can tell: `written`
 * (handed to the socket in full), `dropped` (lost on purpose, dropAnswerRate), `client-gone` (the
 * client closed the connection first, e.g. it timed out or its process died), `pending` (not yet).
 * Only `dropped` and `client-gone` are certain losses; a client that dies right after `written` may
 * still never have read it.
 */
export type SimAnswer = 'pending' | 'written' | 'dropped' | 'client-gone';

export interface SimReceivedMessage {
  wamid: string;
  to: string;
  type: string;
  /** The request body exactly as parsed from JSON. */
  body: Record<string, unknown>;
  /** ISO-8601 time of acceptance. */
  receivedAt: string;
  /** Request headers without the one that carries the API key. */
  headers: IncomingHttpHeaders;
  /** True when the answer was deliberately lost (dropAnswerRate). */
  answerDropped: boolean;
  /** Updated in place as the answer goes out (or does not). */
  answer: SimAnswer;
}

export interface SimCounters {
  /** Every /v1/messages call, whatever its outcome. */
  attempts: number;
  /** Every accepted message, including ones evicted from the bounded record. */
  accepted: number;
  /** Accepted messages whose answer was dropped. */
  dropped: number;
  /** Accepted messages whose client closed the connection before the answer was written. */
  clientGone: number;
  /** Non-200 answers by HTTP status. */
  failures: Record<string, number>;
  /** Accepted messages that got no status callbacks because too many were already pending. */
  statusCallbacksSkipped: number;
}

/** In-order record of accepted messages, bounded so long benchmarks cannot exhaust memory. */
export class MessageLog {
  #messages: SimReceivedMessage[] = [];
  #counters: SimCounters = emptyCounters();
  readonly #max: number;

  constructor(maxMessages: number) {
    this.#max = maxMessages;
  }

  countAttempt(): void {
    this.#counters.attempts += 1;
  }

  countFailure(status: number): void {
    const key = String(status);
    this.#counters.failures[key] = (this.#counters.failures[key] ?? 0) + 1;
  }

  countClientGone(): void {
    this.#counters.clientGone += 1;
  }

  countStatusSkipped(): void {
    this.#counters.statusCallbacksSkipped += 1;
  }

  record(message: SimReceivedMessage): void {
    this.#counters.accepted += 1;
    if (message.answerDropped) this.#counters.dropped += 1;
    this.#messages.push(message);
    // Evict in chunks of 10 % so the copy cost is amortised.
    if (this.#messages.length > this.#max) this.#messages.splice(0, Math.max(1, Math.floor(this.#max / 10)));
  }

  messages(): SimReceivedMessage[] {
    return [...this.#messages];
  }

  counters(): SimCounters {
    return { ...this.#counters, failures: { ...this.#counters.failures } };
  }

  clear(): void {
    this.#messages = [];
    this.#counters = emptyCounters();
  }
}

function emptyCounters(): SimCounters {
  return { attempts: 0, accepted: 0, dropped: 0, clientGone: 0, failures: {}, statusCallbacksSkipped: 0 };
}
