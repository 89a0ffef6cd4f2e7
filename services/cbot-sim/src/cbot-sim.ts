import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import type { SimCallbackLog, Webhook } from './callback-sender.js';
import type { InboundRequest } from './inbound-request.js';
import { defaultKnobs, mergeKnobs, type SimKnobs } from './knobs.js';
import type { MediaCounters } from './media-store.js';
import type { SimCounters, SimReceivedMessage } from './message-log.js';
import type { SimReadReceipt } from './read-log.js';
import { createRequestListener } from './request-listener.js';
import { Simulator } from './simulator.js';
import type { SimFailureStatus } from './wa-errors.js';

export interface CbotSimOptions {
  /** Default 0: a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  apiKey: string;
  /** Which CBOT API to play: `onprem` (default) or `cloud` (`/messages`, Graph errors, Cloud-envelope callbacks). */
  api?: 'onprem' | 'cloud';
  /** Header carrying the key: `Authorization` expects `Bearer <key>`, any other name the bare key. */
  apiKeyHeader?: string;
  knobs?: Partial<SimKnobs>;
  webhook?: { url: string; headers?: Record<string, string> };
  /** When set, callbacks carry X-Hub-Signature-256 (HMAC-SHA256 of the raw body with this secret). */
  appSecret?: string;
  /** Default: a silent logger. */
  logger?: Logger;
  /** Clock in epoch ms (received times, outages, callback timestamps). */
  now?: () => number;
  /** Source of randomness in [0, 1) for errorRate and dropAnswerRate. */
  random?: () => number;
  /** Accepted messages kept for received(); older ones are evicted. Default 100 000. */
  maxRecorded?: number;
  /** Callbacks kept for callbacks() and redelivery. Default 1 000. */
  maxCallbackLog?: number;
  /**
   * Accepted messages whose status callbacks may be pending at once (webhook slower than the
   * send rate). Past it, new messages get no callbacks and counters().statusCallbacksSkipped grows.
   * Default 20 000.
   */
  maxPendingStatus?: number;
}

export interface CbotSim {
  /** Base URL with a trailing slash, e.g. http://127.0.0.1:43123/. */
  url: string;
  received(): SimReceivedMessage[];
  /** Read receipts accepted, in arrival order (`GET /_sim/reads`). */
  reads(): SimReadReceipt[];
  attempts(): number;
  /** Attempts, accepted, dropped and non-200 answers by status. */
  counters(): SimCounters;
  /** Media uploads, bytes received so far, look-ups (found or not) and downloads. */
  media(): MediaCounters;
  setKnobs(k: Partial<SimKnobs>): void;
  knobs(): SimKnobs;
  failNext(status: SimFailureStatus, count: number): void;
  /**
   * The next `count` sends fail with WhatsApp `code`: as the send's error answer (`mode: 'answer'`, HTTP
   * `status` default 400, Retry-After `retryAfter` seconds when given), or accepted with 200 and then
   * reported in a `failed` status callback (`mode: 'callback'`).
   */
  failNextCode(code: number, count: number, opts?: { mode?: 'answer' | 'callback'; status?: SimFailureStatus; retryAfter?: number }): void;
  setWebhook(url: string, headers?: Record<string, string>): void;
  webhook(): Webhook | undefined;
  /** Drops the callback URL, as a CBOT that lost its configuration would (`POST /_sim/forget-webhook`). */
  forgetWebhook(): void;
  deliverInbound(req: InboundRequest): Promise<{ callbackId: string; payload: unknown; done: Promise<SimCallbackLog> }>;
  deliverCallback(payload: unknown, times?: number): Promise<{ callbackId: string; done: Promise<SimCallbackLog> }>;
  redeliver(callbackId: string, times?: number): Promise<{ callbackId: string; done: Promise<SimCallbackLog> }>;
  callbacks(): SimCallbackLog[];
  /** Clears records, callbacks and scripted failures; `knobs: true` restores the start-up knobs. */
  reset(opts?: { knobs?: boolean }): void;
  /** Idempotent; stops pending callbacks and retries. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function startCbotSim(opts: CbotSimOptions): Promise<CbotSim> {
  if (opts.apiKey.length === 0) throw new Error('cbot-sim: apiKey must not be empty');
  const logger = opts.logger ?? pino({ level: 'silent' });
  const sim = new Simulator({
    ...(opts.api === undefined ? {} : { api: opts.api }),
    apiKey: opts.apiKey,
    apiKeyHeader: opts.apiKeyHeader ?? 'Authorization',
    knobs: mergeKnobs(defaultKnobs, opts.knobs ?? {}),
    ...(opts.appSecret === undefined ? {} : { appSecret: opts.appSecret }),
    now: opts.now ?? Date.now,
    random: opts.random ?? Math.random,
    logger,
    maxRecorded: opts.maxRecorded ?? 100_000,
    maxCallbackLog: opts.maxCallbackLog ?? 1_000,
    maxPendingStatus: opts.maxPendingStatus ?? 20_000,
  });
  if (opts.webhook) sim.setWebhook(opts.webhook.url, opts.webhook.headers);

  const server = createServer(createRequestListener(sim, logger));
  // Longer than clients' idle timeouts, so the simulator is not the side that races a reused socket.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1');
  await once(server, 'listening');
  const url = baseUrl(server.address() as AddressInfo);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      sim.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    })();
    return closing;
  };

  return {
    url,
    received: () => sim.log.messages(),
    reads: () => sim.reads.reads(),
    attempts: () => sim.log.counters().attempts,
    counters: () => sim.log.counters(),
    media: () => ({ ...sim.media.counters }),
    setKnobs: (k) => void sim.setKnobs(k),
    knobs: () => structuredClone(sim.knobs),
    failNext: (status, count) => sim.plan.failNext(status, count),
    failNextCode: (code, count, o = {}) =>
      sim.plan.failNext({ code, mode: o.mode ?? 'answer', ...(o.status === undefined ? {} : { status: o.status }), ...(o.retryAfter === undefined ? {} : { retryAfter: o.retryAfter }) }, count),
    setWebhook: (hookUrl, headers) => sim.setWebhook(hookUrl, headers),
    forgetWebhook: () => sim.forgetWebhook(),
    webhook: () => sim.webhook && { url: sim.webhook.url, headers: { ...sim.webhook.headers } },
    deliverInbound: async (req) => sim.deliverInbound(req),
    deliverCallback: async (payload, times = 1) => sim.deliver('custom', payload, times),
    redeliver: async (callbackId, times = 1) => {
      const delivery = sim.redeliver(callbackId, times);
      if (!delivery) throw new Error(`cbot-sim: unknown callbackId ${callbackId}`);
      return delivery;
    },
    callbacks: () => sim.sender.list(),
    reset: (resetOpts) => sim.reset(resetOpts),
    close,
    [Symbol.asyncDispose]: close,
  };
}

function baseUrl(address: AddressInfo): string {
  // A wildcard bind (dual-stack for '::') is reachable on loopback.
  const wildcard = address.address === '0.0.0.0' || address.address === '::';
  const host = wildcard ? '127.0.0.1' : address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}/`;
}
