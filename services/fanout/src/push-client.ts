import { Agent, request } from 'undici';

export interface PushClientOptions {
  timeoutMs: number;
}

/** POSTs one signed event over a keep-alive pool; resolves with the HTTP status, rejects on network errors and timeouts. */
export class PushClient {
  readonly #agent: Agent;
  readonly #timeoutMs: number;
  #closing: Promise<void> | undefined;

  constructor(opts: PushClientOptions) {
    this.#timeoutMs = opts.timeoutMs;
    this.#agent = new Agent({
      keepAliveTimeout: 30_000,
      connectTimeout: Math.min(opts.timeoutMs, 10_000),
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
    });
  }

  async post(url: string, headers: Record<string, string>, body: string): Promise<number> {
    const res = await request(url, {
      method: 'POST',
      headers,
      body,
      dispatcher: this.#agent,
      signal: AbortSignal.timeout(this.#timeoutMs), // the whole exchange, not only each phase
    });
    // Read (and drop) the answer so the connection goes back to the pool.
    await res.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
    return res.statusCode;
  }

  /** Waits for requests in flight, then closes the pool. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#agent.close().catch(() => this.#agent.destroy());
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
