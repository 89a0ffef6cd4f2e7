import pRetry from 'p-retry';
import { Agent, request } from 'undici';
import { templatesFromAnswer } from '@cbot-relay/messages';
import type { CbotTemplate } from '@cbot-relay/messages';
import type { CbotApi } from './api-flavour.js';
import { markReadRequest, messageBody, messagesPath } from './api-flavour.js';
import type { ReadOutcome, SendOutcome } from './classify.js';
import type { MediaContext, MediaDownload, MediaUpload, MediaUploadInput } from './media-calls.js';
import { openMedia, uploadMedia } from './media-calls.js';
import { classifyNetworkError, classifyReadResponse, classifyResponse, isNotSentError, parseRetryAfter } from './classify.js';

type CbotAnswer = { status: number; body: unknown; retryAfterMs?: number } | { error: unknown };

export interface CbotClientOptions {
  baseUrl: string;
  apiKey: string;
  /** `Authorization` sends `Bearer <key>`; any other header carries the key as is. */
  apiKeyHeader: string;
  timeoutMs: number;
  /** Which CBOT API the base URL speaks (default `onprem`). */
  api?: CbotApi;
  /** Keep-alive sockets to CBOT per process. */
  connections?: number;
  now?: () => number;
  /** Media transfers: a body moving no byte for this long is cut (default 30 s). */
  mediaIdleTimeoutMs?: number;
  /** Cloud media downloads: `base` fetches the look-up's URL from the base URL's origin (default `cdn`: as given). */
  mediaHost?: 'cdn' | 'base';
}

/**
 * The one place that talks HTTP to CBOT. Every result, including network failures, comes back as a
 * SendOutcome; nothing throws. In-attempt retries (p-retry) cover only failures where the request
 * provably never left (connection refused, DNS): 2 retries, 100 ms then 200 ms (± jitter), so the
 * worst case adds 2 × connect timeout (2 s) + 0.4 s to one attempt — far below the job lock.
 */
export class CbotClient {
  readonly #agent: Agent;
  readonly #headers: Record<string, string>;
  readonly #opts: CbotClientOptions;
  readonly #now: () => number;
  #closed = false;

  constructor(opts: CbotClientOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
    this.#agent = new Agent({
      connections: opts.connections ?? 256,
      keepAliveTimeout: 30_000,
      connect: { timeout: 2_000 },
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
    });
    const isAuth = opts.apiKeyHeader.toLowerCase() === 'authorization';
    this.#headers = {
      'content-type': 'application/json',
      [opts.apiKeyHeader.toLowerCase()]: isAuth ? `Bearer ${opts.apiKey}` : opts.apiKey,
    };
  }

  /** Streams a file up to CBOT (On-Premises raw, Cloud multipart); never throws. */
  uploadMedia(input: MediaUploadInput): Promise<MediaUpload> {
    return uploadMedia(this.#media(), input);
  }

  /** Opens a media download (Cloud: look-up, then the URL); the caller consumes or destroys `body`. Never throws. */
  openMedia(id: string, signal?: AbortSignal): Promise<MediaDownload> {
    return openMedia(this.#media(), id, signal);
  }

  #media(): MediaContext {
    const [name, value] = Object.entries(this.#headers).find(([k]) => k !== 'content-type')!;
    return {
      agent: this.#agent,
      baseUrl: this.#opts.baseUrl,
      api: this.#opts.api ?? 'onprem',
      keyHeader: [name, value],
      timeoutMs: this.#opts.timeoutMs,
      idleTimeoutMs: this.#opts.mediaIdleTimeoutMs ?? 30_000,
      mediaHost: this.#opts.mediaHost ?? 'cdn',
    };
  }

  url(path: string): string {
    return new URL(path, this.#opts.baseUrl).href;
  }

  /**
   * On-Premises: POST {base}v1/messages with the body exactly as given; Cloud: POST {base}messages
   * with messaging_product added, and `opts.opaque` (the relay id) as biz_opaque_callback_data unless the body has one.
   */
  async sendMessage(body: string, opts: { opaque?: string } = {}): Promise<SendOutcome> {
    const api = this.#opts.api ?? 'onprem';
    const res = await this.#post(messagesPath(api), messageBody(api, body, opts.opaque));
    if ('error' in res) return classifyNetworkError(res.error);
    return classifyResponse(res.status, res.body, res.retryAfterMs);
  }

  /**
   * Marks an inbound message read (and, on Cloud, shows the typing indicator when `typing`): On-Premises
   * PUT {base}v1/messages/{wamid}, Cloud POST {base}messages (markReadRequest). Never throws.
   */
  async markRead(wamid: string, typing = false): Promise<ReadOutcome> {
    const req = markReadRequest(this.#opts.api ?? 'onprem', wamid, typing);
    const res = await this.#request(req.method, req.path, req.body);
    if ('error' in res) return classifyNetworkError(res.error);
    return classifyReadResponse(res.status, res.body, res.retryAfterMs);
  }

  /** POST {base}/v1/configs/webhook: tells CBOT where to call us back (and which headers to send). */
  async registerWebhook(url: string, headers?: Record<string, string>): Promise<{ ok: boolean; detail: string }> {
    const res = await this.#post('v1/configs/webhook', JSON.stringify(headers ? { url, headers } : { url }));
    if ('error' in res) return { ok: false, detail: classifyNetworkError(res.error).error.message };
    return { ok: res.status >= 200 && res.status < 300, detail: `HTTP ${res.status}` };
  }

  /**
   * GET {base}/v1/configs/webhook: the callback URL CBOT holds now. `url` is null when CBOT holds
   * none; `ok: false` when CBOT could not be asked (network, non-2xx, an answer without `url`).
   */
  async getWebhook(): Promise<{ ok: true; url: string | null } | { ok: false; detail: string }> {
    const res = await this.#request('GET', 'v1/configs/webhook');
    if ('error' in res) return { ok: false, detail: classifyNetworkError(res.error).error.message };
    if (res.status < 200 || res.status > 299) return { ok: false, detail: `HTTP ${res.status}` };
    const url = (res.body as { url?: unknown } | undefined)?.url;
    if (url === null || typeof url === 'string') return { ok: true, url: url === '' ? null : url };
    return { ok: false, detail: 'answer without a url field' };
  }

  /**
   * GET {base}v1/configs/templates: the channel's message templates (`{"waba_templates": […]}` or
   * `{"data": […]}`, both APIs). `ok: false` when CBOT could not be asked or gave neither shape.
   */
  async listTemplates(): Promise<{ ok: true; templates: CbotTemplate[] } | { ok: false; detail: string }> {
    const res = await this.#request('GET', 'v1/configs/templates');
    if ('error' in res) return { ok: false, detail: classifyNetworkError(res.error).error.message };
    if (res.status < 200 || res.status > 299) return { ok: false, detail: `HTTP ${res.status}` };
    const templates = templatesFromAnswer(res.body);
    return templates === undefined ? { ok: false, detail: 'answer has neither waba_templates nor data' } : { ok: true, templates };
  }

  #post(path: string, body: string): Promise<CbotAnswer> {
    return this.#request('POST', path, body);
  }

  async #request(method: 'GET' | 'POST' | 'PUT', path: string, body?: string): Promise<CbotAnswer> {
    try {
      const res = await pRetry(
        () =>
          request(this.url(path), {
            method,
            headers: this.#headers,
            ...(body === undefined ? {} : { body }),
            dispatcher: this.#agent,
            signal: AbortSignal.timeout(this.#opts.timeoutMs),
          }),
        {
          retries: 2,
          factor: 2,
          minTimeout: 100,
          maxTimeout: 200,
          randomize: true,
          shouldRetry: ({ error }) => isNotSentError(error),
        },
      );
      const text = await res.body.text();
      let parsed: unknown;
      try {
        parsed = text === '' ? undefined : JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      const retryAfter = res.headers['retry-after'];
      const retryAfterMs = parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, this.#now());
      return retryAfterMs === undefined ? { status: res.statusCode, body: parsed } : { status: res.statusCode, body: parsed, retryAfterMs };
    } catch (error) {
      return { error };
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#agent.close().catch(() => this.#agent.destroy());
  }

  /** Aborts requests in flight (they come back as network failures) and closes. For work nobody waits on. */
  async destroy(): Promise<void> {
    this.#closed = true;
    await this.#agent.destroy().catch(() => undefined);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
