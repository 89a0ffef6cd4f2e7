import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import { CallbackSender, type SimCallbackKind, type SimCallbackLog, type Webhook } from './callback-sender.js';
import { FailPlan } from './fail-plan.js';
import { IdSource } from './ids.js';
import { inboundPayload } from './inbound-payload.js';
import { InboundRequest } from './inbound-request.js';
import { mergeKnobs, type SimKnobs } from './knobs.js';
import { MediaStore } from './media-store.js';
import { MessageLog } from './message-log.js';
import { ReadLog } from './read-log.js';
import { sendStatusCallbacks } from './status-callbacks.js';
import { cloudEnvelope, failedStatusPayload } from './status-payload.js';
import { Timers } from './timers.js';
import { STATUS_AFTER_EVENT, defaultTemplates, type SimTemplate } from './templates.js';
import type { SimApi } from './wa-errors.js';

export interface SimulatorOptions {
  /** Default onprem. */
  api?: SimApi;
  apiKey: string;
  apiKeyHeader: string;
  knobs: SimKnobs;
  webhook?: Webhook;
  appSecret?: string;
  now: () => number;
  random: () => number;
  logger: Logger;
  maxRecorded: number;
  maxCallbackLog: number;
  /** Accepted messages whose status callbacks may be pending at once; past it new ones get none. */
  maxPendingStatus: number;
}

export interface Delivery {
  callbackId: string;
  /** Settles (never rejects) once every copy was delivered, gave up or was cancelled. */
  done: Promise<SimCallbackLog>;
}

export class NoWebhookError extends Error {
  constructor() {
    super('no webhook registered: POST /v1/configs/webhook first');
    this.name = 'NoWebhookError';
  }
}

/** The simulator's state and behaviour, free of HTTP. */
export class Simulator {
  readonly ids = new IdSource();
  readonly timers = new Timers();
  readonly plan: FailPlan;
  readonly log: MessageLog;
  /** Read receipts accepted (read-route.ts). */
  readonly reads: ReadLog;
  readonly sender: CallbackSender;
  /** Uploaded media, on disk. */
  readonly media = new MediaStore();
  readonly now: () => number;
  readonly random: () => number;
  readonly api: SimApi;
  /** Lower-case name of the header carrying the key, and the exact value expected in it. */
  readonly keyHeader: string;
  readonly #expectedKey: string;
  readonly #initialKnobs: SimKnobs;
  readonly #maxPendingStatus: number;
  readonly #logger: Logger;
  #pendingStatus = 0;
  #knobs: SimKnobs;
  #webhook: Webhook | undefined;
  /** The message templates GET /v1/configs/templates lists. */
  #templates: SimTemplate[] = defaultTemplates();

  constructor(opts: SimulatorOptions) {
    this.now = opts.now;
    this.random = opts.random;
    this.api = opts.api ?? 'onprem';
    this.keyHeader = opts.apiKeyHeader.toLowerCase();
    this.#expectedKey = this.keyHeader === 'authorization' ? `Bearer ${opts.apiKey}` : opts.apiKey;
    this.#initialKnobs = opts.knobs;
    this.#knobs = opts.knobs;
    this.#webhook = opts.webhook;
    this.#maxPendingStatus = opts.maxPendingStatus;
    this.#logger = opts.logger;
    this.plan = new FailPlan(opts.random);
    this.log = new MessageLog(opts.maxRecorded);
    this.reads = new ReadLog(opts.maxRecorded);
    this.sender = new CallbackSender({
      webhook: () => this.#webhook,
      knobs: () => this.#knobs,
      now: opts.now,
      timers: this.timers,
      logger: opts.logger,
      maxLog: opts.maxCallbackLog,
      ...(opts.appSecret === undefined ? {} : { appSecret: opts.appSecret }),
    });
  }

  /** The live knobs object; replaced, never mutated, so callers may hold it for one request. */
  get knobs(): SimKnobs {
    return this.#knobs;
  }

  setKnobs(patch: unknown): SimKnobs {
    this.#knobs = mergeKnobs(this.#knobs, patch);
    return this.#knobs;
  }

  authorized(headers: IncomingHttpHeaders): boolean {
    const value = headers[this.keyHeader];
    if (typeof value !== 'string') return false;
    if (value === this.#expectedKey) return true;
    // The auth scheme name is case-insensitive (RFC 9110).
    return this.keyHeader === 'authorization' && value.toLowerCase().startsWith('bearer ') &&
      value.slice(7) === this.#expectedKey.slice(7);
  }

  get webhook(): Webhook | undefined {
    return this.#webhook;
  }

  setWebhook(url: string, headers: Record<string, string> = {}): void {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`webhook URL must be http(s): ${url}`);
    this.#webhook = { url: parsed.href, headers: { ...headers } };
  }

  get templates(): readonly SimTemplate[] {
    return this.#templates;
  }

  setTemplates(templates: SimTemplate[]): void {
    this.#templates = templates;
  }

  /** A template status event moves the template's status as WhatsApp would. */
  templateStatusChanged(name: string, language: string, event: string): void {
    const status = STATUS_AFTER_EVENT[event];
    if (status === undefined) return;
    this.#templates = this.#templates.map((t) => (t.name === name && t.language === language ? { ...t, status } : t));
  }

  /** CBOT losing its configuration (a reset account, a restore): no callback URL until one is set again. */
  forgetWebhook(): void {
    this.#webhook = undefined;
  }

  /**
   * Schedules sent/delivered/read callbacks for an accepted message, when enabled and a webhook is set;
   * with `failedCode`, one `failed` status callback carrying that WhatsApp code instead (whatever the
   * statusCallbacks knob: it was asked for), after the first status delay. Cloud statuses carry the
   * send's `opaque` (biz_opaque_callback_data).
   */
  accepted(message: { wamid: string; to: string; type: string; opaque?: string }, failedCode?: number): void {
    const knobs = this.#knobs;
    if (failedCode !== undefined) {
      if (!this.#webhook || this.timers.closed) return;
      const cloud = this.api === 'cloud';
      void (async () => {
        const delay = knobs.statusDelaysMs[0] ?? 0;
        if (delay > 0) await this.timers.sleep(delay);
        if (this.timers.closed) return;
        const payload = failedStatusPayload(message.wamid, message.to, Math.floor(this.now() / 1000), failedCode);
        await this.sender.deliver('status', cloud ? cloudEnvelope(payload) : payload).done;
      })().catch(() => undefined);
      return;
    }
    if (!knobs.statusCallbacks || !this.#webhook || this.timers.closed) return;
    if (this.#pendingStatus >= this.#maxPendingStatus) {
      if (this.log.counters().statusCallbacksSkipped === 0) {
        this.#logger.warn({ pending: this.#pendingStatus }, 'webhook too slow: skipping status callbacks');
      }
      this.log.countStatusSkipped();
      return;
    }
    this.#pendingStatus += 1;
    void sendStatusCallbacks(
      { sender: this.sender, timers: this.timers, ids: this.ids, now: this.now, cloud: this.api === 'cloud' },
      message,
      knobs.statusDelaysMs,
    ).finally(() => {
      this.#pendingStatus -= 1;
    });
  }

  /** Each sender's newest inbound message delivered through this simulator (its timestamp, ms): the window `enforceWindow` keeps. */
  readonly #lastInbound = new Map<string, number>();

  /** Whether a free-form message to `to` is refused for the customer-service window (knobs enforceWindow, outsideWindow). */
  outsideWindow(to: string): boolean {
    const k = this.knobs;
    if (k.outsideWindow.includes(to)) return true;
    if (!k.enforceWindow) return false;
    const last = this.#lastInbound.get(to);
    return last === undefined || this.now() - last >= 24 * 3_600_000;
  }

  deliverInbound(request: unknown): Delivery & { payload: unknown } {
    const req = InboundRequest.parse(request);
    const payload = inboundPayload(req, this.ids, this.now());
    const at = (req.timestamp ?? Math.floor(this.now() / 1000)) * 1000;
    if (at > (this.#lastInbound.get(req.from) ?? -1)) this.#lastInbound.set(req.from, at);
    return { ...this.deliver('inbound', payload, req.times, req.concurrent), payload };
  }

  deliver(kind: SimCallbackKind, payload: unknown, times = 1, concurrent = false): Delivery {
    if (!this.#webhook) throw new NoWebhookError();
    return this.sender.deliver(kind, payload, times, concurrent);
  }

  /** Undefined when the callback id is unknown (or evicted from the bounded log). */
  redeliver(callbackId: string, times = 1, concurrent = false): Delivery | undefined {
    if (!this.#webhook) throw new NoWebhookError();
    const done = this.sender.redeliver(callbackId, times, concurrent);
    return done && { callbackId, done };
  }

  /** Clears records, callback log, pending callbacks and scripted failures; knobs too when asked. */
  reset(opts: { knobs?: boolean } = {}): void {
    this.log.clear();
    this.reads.clear();
    this.plan.clear();
    this.sender.reset();
    this.timers.cancelAll();
    this.#lastInbound.clear();
    this.media.reset();
    if (opts.knobs) {
      this.#knobs = this.#initialKnobs;
      this.#templates = defaultTemplates();
    }
  }

  close(): void {
    this.sender.close();
    this.timers.close();
    this.media.close();
  }
}
