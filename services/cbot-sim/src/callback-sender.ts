import { createHmac } from 'node:crypto';
import type { Logger } from 'pino';
import { JsonPoster } from './json-poster.js';
import type { SimKnobs } from './knobs.js';
import { Timers } from './timers.js';

export type SimCallbackKind = 'status' | 'inbound' | 'custom';

export interface SimCallbackDelivery {
  /** HTTP attempts of this copy. */
  attempts: number;
  /** Status of the last attempt; null before the first answer or after a network error. */
  status: number | null;
  error?: string;
  state: 'pending' | 'delivered' | 'failed' | 'cancelled';
  /** When the webhook answered 200 (ISO time), once delivered. */
  deliveredAt?: string;
}

export interface SimCallbackLog {
  id: string;
  kind: SimCallbackKind;
  payload: unknown;
  createdAt: string;
  /** HTTP attempts over all copies. */
  attempts: number;
  /** Status of the most recent attempt of any copy. */
  lastStatus: number | null;
  /** One entry per copy: the first delivery plus each redelivery. */
  deliveries: SimCallbackDelivery[];
}

export interface Webhook {
  url: string;
  headers: Record<string, string>;
}

export interface CallbackSenderOptions {
  webhook: () => Webhook | undefined;
  knobs: () => SimKnobs;
  now: () => number;
  timers: Timers;
  logger: Logger;
  maxLog: number;
  /** When set, every callback carries X-Hub-Signature-256 (HMAC-SHA256 of the raw body). */
  appSecret?: string;
}

interface Entry {
  log: SimCallbackLog;
  raw: string;
}

/** Delivers callbacks to the registered webhook, retrying until it answers 200; keeps a bounded log. */
export class CallbackSender {
  readonly #opts: CallbackSenderOptions;
  readonly #poster = new JsonPoster();
  readonly #log = new Map<string, Entry>();
  #seq = 0;
  #generation = 0;

  constructor(opts: CallbackSenderOptions) {
    this.#opts = opts;
  }

  /** Sends `payload` `times` times (sequentially unless `concurrent`); `done` settles when every copy finished. */
  deliver(
    kind: SimCallbackKind,
    payload: unknown,
    times = 1,
    concurrent = false,
  ): { callbackId: string; done: Promise<SimCallbackLog> } {
    this.#seq += 1;
    const id = `cb_${this.#seq}`;
    const log: SimCallbackLog = {
      id, kind, payload, createdAt: new Date(this.#opts.now()).toISOString(),
      attempts: 0, lastStatus: null, deliveries: [],
    };
    this.#log.set(id, { log, raw: JSON.stringify(payload) });
    if (this.#log.size > this.#opts.maxLog) {
      const oldest = this.#log.keys().next();
      if (!oldest.done) this.#log.delete(oldest.value);
    }
    return { callbackId: id, done: this.redeliver(id, times, concurrent) as Promise<SimCallbackLog> };
  }

  /** Sends an earlier callback `times` more times; undefined when the id is unknown or evicted. */
  redeliver(callbackId: string, times: number, concurrent = false): Promise<SimCallbackLog> | undefined {
    const entry = this.#log.get(callbackId);
    if (!entry) return undefined;
    const copies = Array.from({ length: times }, () => {
      const d: SimCallbackDelivery = { attempts: 0, status: null, state: 'pending' };
      entry.log.deliveries.push(d);
      return d;
    });
    const generation = this.#generation;
    const run = concurrent
      ? Promise.all(copies.map((d) => this.#send(entry, d, generation)))
      : copies.reduce((prev, d) => prev.then(() => this.#send(entry, d, generation)), Promise.resolve());
    return run.then(() => snapshot(entry.log));
  }

  get(callbackId: string): SimCallbackLog | undefined {
    const entry = this.#log.get(callbackId);
    return entry && snapshot(entry.log);
  }

  list(): SimCallbackLog[] {
    return [...this.#log.values()].map((e) => snapshot(e.log));
  }

  /** Changes on reset and close; work started under an older generation stops. */
  get generation(): number {
    return this.#generation;
  }

  /** Clears the log and stops pending retries. */
  reset(): void {
    this.#generation += 1;
    this.#log.clear();
  }

  close(): void {
    this.#generation += 1;
    this.#poster.close();
  }

  async #send(entry: Entry, d: SimCallbackDelivery, generation: number): Promise<void> {
    const { timers, knobs, logger } = this.#opts;
    for (;;) {
      if (generation !== this.#generation || timers.closed) {
        d.state = 'cancelled';
        return;
      }
      const hook = this.#opts.webhook();
      if (!hook) {
        d.state = 'failed';
        d.error = 'no webhook registered';
        return;
      }
      const { callbackRetry, callbackTimeoutMs } = knobs();
      const wanted = (): boolean => generation === this.#generation && !timers.closed;
      try {
        const headers = this.#headers(hook, entry.raw);
        d.status = await this.#poster.post(new URL(hook.url), entry.raw, headers, callbackTimeoutMs, wanted);
        delete d.error;
      } catch (err) {
        if (!wanted()) {
          d.state = 'cancelled';
          return;
        }
        d.status = null;
        d.error = err instanceof Error ? err.message : String(err);
      }
      d.attempts += 1;
      entry.log.attempts += 1;
      entry.log.lastStatus = d.status;
      if (d.status === 200) {
        d.state = 'delivered';
        d.deliveredAt = new Date(this.#opts.now()).toISOString();
        return;
      }
      if (d.attempts >= callbackRetry.attempts) {
        d.state = 'failed';
        logger.warn({ callbackId: entry.log.id, status: d.status, attempts: d.attempts }, 'callback gave up');
        return;
      }
      const delay = Math.min(callbackRetry.maxDelayMs, callbackRetry.initialDelayMs * 2 ** (d.attempts - 1));
      await timers.sleep(delay);
    }
  }

  #headers(hook: Webhook, raw: string): Record<string, string> {
    const { appSecret } = this.#opts;
    if (appSecret === undefined) return hook.headers;
    const signature = createHmac('sha256', appSecret).update(raw).digest('hex');
    return { ...hook.headers, 'x-hub-signature-256': `sha256=${signature}` };
  }
}

function snapshot(log: SimCallbackLog): SimCallbackLog {
  return { ...log, deliveries: log.deliveries.map((d) => ({ ...d })) };
}
