import type { CbotClient } from '@cbot-relay/cbot-client';
import type { Logger } from '@cbot-relay/observability';

export type WebhookState = 'registered' | 'pending';

export interface RegistrarTimings {
  /** First retry delay after a failed check; doubles per failure, equal jitter. */
  baseMs: number;
  /** Cap of the retry delay. */
  maxMs: number;
  /** Delay between checks once CBOT holds the URL. */
  recheckMs: number;
}

/** 1 s doubling to 60 s: a CBOT back from an outage has our URL within a minute; 5 min between checks after. */
export const DEFAULT_REGISTRAR_TIMINGS: RegistrarTimings = { baseMs: 1_000, maxMs: 60_000, recheckMs: 300_000 };

export interface WebhookRegistrarOptions {
  client: Pick<CbotClient, 'getWebhook' | 'registerWebhook'>;
  /** PUBLIC_WEBHOOK_URL. */
  url: string;
  /** Headers CBOT must send back (Basic credentials), when configured. */
  headers?: Record<string, string>;
  log: Logger;
  /** relay_webhook_registered: 1 while CBOT is known to hold the URL, else 0. */
  gauge: { set(value: number): void };
  timings?: Partial<RegistrarTimings>;
  random?: () => number;
}

/**
 * Makes CBOT hold the relay's callback URL and keeps it there: asks CBOT which URL it holds
 * (`GET /v1/configs/webhook`), registers ours when it is not that one (or CBOT cannot say), retries
 * with capped, jittered backoff until CBOT accepts, then checks again every `recheckMs`. GET does not
 * show the headers CBOT holds, so a changed Basic password is registered on the next restart, or at
 * once with `pnpm cbot-relay webhook register`.
 */
export class WebhookRegistrar {
  readonly #opts: WebhookRegistrarOptions;
  readonly #timings: RegistrarTimings;
  readonly #random: () => number;
  readonly #want: string;
  #state: WebhookState = 'pending';
  #failures = 0;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  #closed = false;

  private constructor(opts: WebhookRegistrarOptions) {
    this.#opts = opts;
    this.#timings = { ...DEFAULT_REGISTRAR_TIMINGS, ...opts.timings };
    this.#random = opts.random ?? Math.random;
    this.#want = normalize(opts.url);
    opts.gauge.set(0);
  }

  /** Starts checking at once; never throws (failures are retried and logged). */
  static start(opts: WebhookRegistrarOptions): WebhookRegistrar {
    const r = new WebhookRegistrar(opts);
    r.#run();
    return r;
  }

  get state(): WebhookState {
    return this.#state;
  }

  /** Stops the checks and waits for one in flight. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#inFlight;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #run(): void {
    this.#inFlight = this.#check()
      .catch((err: unknown) => {
        this.#set('pending');
        this.#opts.log.error({ err }, 'webhook registration check failed');
      })
      .finally(() => {
        this.#inFlight = undefined;
        this.#schedule();
      });
  }

  #schedule(): void {
    if (this.#closed) return;
    const delay = this.#state === 'registered' ? this.#timings.recheckMs : this.#backoff(this.#failures);
    this.#timer = setTimeout(() => this.#run(), delay);
    this.#timer.unref();
  }

  async #check(): Promise<void> {
    const { client, log, url } = this.#opts;
    const held = await client.getWebhook();
    if (this.#closed) return;
    if (held.ok && held.url !== null && normalize(held.url) === this.#want) {
      this.#failures = 0;
      this.#set('registered');
      return;
    }
    if (this.#state === 'registered') {
      // Only a known different answer says CBOT lost it; a failed GET alone is not evidence.
      if (held.ok) log.warn({ url, held: held.url }, 'CBOT no longer holds the callback URL; registering it again');
    }
    const res = await client.registerWebhook(url, this.#opts.headers);
    if (this.#closed) return;
    if (res.ok) {
      this.#failures = 0;
      this.#set('registered');
      log.info({ url }, 'registered the callback URL with CBOT');
      return;
    }
    this.#failures += 1;
    this.#set('pending');
    const check = held.ok ? 'ok' : held.detail;
    log.warn({ url, detail: res.detail, check, failures: this.#failures }, 'could not register the callback URL with CBOT; retrying');
  }

  #set(state: WebhookState): void {
    this.#state = state;
    this.#opts.gauge.set(state === 'registered' ? 1 : 0);
  }

  /** Equal jitter: half the capped doubling delay, plus up to the other half at random. */
  #backoff(failures: number): number {
    const { baseMs, maxMs } = this.#timings;
    const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, failures - 1));
    return ceiling / 2 + this.#random() * (ceiling / 2);
  }
}

function normalize(url: string): string {
  try {
    return new URL(url).href;
  } catch {
    return url;
  }
}
