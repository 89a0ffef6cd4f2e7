import type { IncomingHttpHeaders } from 'node:http';

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
}

export interface SimCounters {
  /** Every /v1/messages call, whatever its outcome. */
  attempts: number;
  /** Every accepted message, including ones evicted from the bounded record. */
  accepted: number;
  /** Accepted messages whose answer was dropped. */
  dropped: number;
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
  return { attempts: 0, accepted: 0, dropped: 0, failures: {}, statusCallbacksSkipped: 0 };
}
