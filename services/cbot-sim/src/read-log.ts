import type { IncomingHttpHeaders } from 'node:http';

/** A read receipt (and typing indicator) the simulator accepted, in either API's shape. */
export interface SimReadReceipt {
  /** The message marked read: the On-Premises path's id, or Cloud's `message_id`. */
  wamid: string;
  /** Which request carried it: On-Premises `PUT /v1/messages/{id}` or Cloud `POST /messages`. */
  api: 'onprem' | 'cloud';
  /** Cloud's `typing_indicator` was present (On-Premises has none). */
  typing: boolean;
  /** The request body exactly as parsed from JSON. */
  body: Record<string, unknown>;
  /** ISO-8601 time of acceptance. */
  receivedAt: string;
  /** Messages the simulator had accepted when this receipt arrived: orders receipts against sends exactly. */
  messagesBefore: number;
  /** Request headers without the one that carries the API key. */
  headers: IncomingHttpHeaders;
}

/** In-order record of accepted read receipts, bounded like the message log. */
export class ReadLog {
  #reads: SimReadReceipt[] = [];
  #count = 0;
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  record(read: SimReadReceipt): void {
    this.#count += 1;
    this.#reads.push(read);
    if (this.#reads.length > this.#max) this.#reads.splice(0, Math.max(1, Math.floor(this.#max / 10)));
  }

  reads(): SimReadReceipt[] {
    return [...this.#reads];
  }

  /** Every accepted receipt, including ones evicted from the record. */
  get count(): number {
    return this.#count;
  }

  clear(): void {
    this.#reads = [];
    this.#count = 0;
  }
}
