import { RelayError, RelayTimeoutError, errorFrom, retryAfterMs } from './errors.js';
import type { BatchRequest, BatchResponse, CancelTagResult, Channel, ChannelList, MediaUploaded, Message, MessageList, OptOutList, ReadAccepted, Recipient, SendAccepted, SendRequest, TemplateList, UsageReport, WindowState } from './spec-types.js';

/** What the client needs of `fetch`; the global one (Node 20+) by default. */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal },
) => Promise<{ status: number; headers: { get(name: string): string | null }; text(): Promise<string> }>;

export type MessageStatus = Message['status'];
export type Priority = 'high' | 'normal' | 'bulk';

export interface RelayClientOptions {
  /** The ingress, e.g. `http://relay.internal:8080`. */
  baseUrl: string;
  /** A key from the relay's RELAY_API_KEYS (RELAY_ADMIN_KEYS for the channel methods). */
  apiKey: string;
  /** Attempts of one send or batch, the first included (429, 503 and network errors are retried). Default 5. */
  maxAttempts?: number;
  /** Backoff when the relay gave no Retry-After: doubles from this, with jitter. Default 500 ms. */
  retryBaseMs?: number;
  /** Longest single wait; a Retry-After beyond it ends the retries with the RelayError. Default 30 s. */
  retryMaxMs?: number;
  /** Per HTTP request. Default 30 s. */
  timeoutMs?: number;
  fetch?: FetchLike;
  sleep?: (ms: number) => Promise<void>;
}

export interface SendOptions {
  /** Sent on every attempt; one is generated when absent, so a retry never makes a second message. */
  idempotencyKey?: string;
  priority?: Priority;
  /** Not handed to CBOT within this many seconds (of `sendAt`, when given): not sent at all, ends `expired`. */
  expiresInS?: number;
  /** X-Relay-Send-At: the message is `scheduled` until then (at most 30 days ahead; a past time means now). */
  sendAt?: Date | string;
  /** X-Relay-Tag: 1–64 characters of A–Z a–z 0–9 . _ : -; list and cancel by it. */
  tag?: string;
}

export interface MediaOptions {
  /** The channel (as a send's `channel`); absent: the relay's default channel. */
  channel?: string;
  /** The whole transfer within this. Default 5 min. */
  timeoutMs?: number;
}

/** A media download: its type, its size when the relay gave one, and the bytes as a web stream (read it or cancel it). */
export interface MediaDownload {
  contentType: string;
  contentLength: number | undefined;
  body: ReadableStream<Uint8Array>;
}

export interface ListQuery {
  to?: string;
  status?: MessageStatus;
  tag?: string;
  since?: string;
  until?: string;
  /** Page size, 1–200. */
  limit?: number;
}

export interface UsageQuery {
  /** ISO 8601 date-time; rounded down to 00:00 UTC. 30 days before `until` when absent. */
  since?: string;
  /** ISO 8601 date-time; rounded up to the next 00:00 UTC. Now when absent. */
  until?: string;
  channel?: string;
  /** Another caller's counts: an admin key only. */
  caller?: string;
}

/** The relay's status order (STATUS_RANK): a status only moves to a higher rank. */
export const STATUS_RANK: Readonly<Record<MessageStatus, number>> = {
  scheduled: -1,
  queued: 0,
  sending: 1,
  sent: 2,
  failed: 2.5,
  expired: 2.5,
  canceled: 2.5,
  delivered: 3,
  read: 4,
};
const TERMINAL: ReadonlySet<MessageStatus> = new Set(['failed', 'expired', 'canceled']);

const RETRY_STATUSES = new Set([429, 503]);
const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A client for the relay's send API. `send` and `sendBatch` retry what is safe to retry (429, 503,
 * network errors, timeouts) with the same Idempotency-Key each time; every other refusal is a
 * RelayError at once. Worst case of one send with the defaults: 5 attempts, 4 waits of at most 30 s.
 */
export class RelayClient {
  readonly #base: string;
  readonly #auth: string;
  readonly #fetch: FetchLike;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #maxAttempts: number;
  readonly #retryBaseMs: number;
  readonly #retryMaxMs: number;
  readonly #timeoutMs: number;

  constructor(opts: RelayClientOptions) {
    if (!/^https?:\/\//.test(opts.baseUrl)) throw new TypeError('baseUrl must be an http(s) URL');
    if (!opts.apiKey) throw new TypeError('apiKey is required');
    const int = (v: number | undefined, fallback: number, min: number, name: string) => {
      const n = v ?? fallback;
      if (!Number.isInteger(n) || n < min) throw new TypeError(`${name} must be an integer ≥ ${min}`);
      return n;
    };
    this.#base = opts.baseUrl.replace(/\/+$/, '');
    this.#auth = `Bearer ${opts.apiKey}`;
    this.#fetch = opts.fetch ?? (globalThis.fetch as unknown as FetchLike);
    this.#sleep = opts.sleep ?? defaultSleep;
    this.#maxAttempts = int(opts.maxAttempts, 5, 1, 'maxAttempts');
    this.#retryBaseMs = int(opts.retryBaseMs, 500, 0, 'retryBaseMs');
    this.#retryMaxMs = int(opts.retryMaxMs, 30_000, 0, 'retryMaxMs');
    this.#timeoutMs = int(opts.timeoutMs, 30_000, 1, 'timeoutMs');
  }

  /**
   * Sends one message; resolves once the relay holds it durably (202), with the recipient's
   * customer-service window as the accept saw it (X-Relay-Window).
   */
  async send(message: SendRequest, opts: SendOptions = {}): Promise<SendAccepted & { idempotencyKey: string; window: WindowState | undefined }> {
    const idempotencyKey = opts.idempotencyKey ?? newKey();
    const headers = { ...sendHeaders(opts), 'Idempotency-Key': idempotencyKey };
    let window: WindowState | undefined;
    const seen = (h: { get(name: string): string | null }) => {
      const w = h.get('x-relay-window');
      window = w === 'open' || w === 'closed' || w === 'unknown' ? w : undefined;
    };
    const accepted = (await this.#retrying('POST', '/v1/messages', headers, JSON.stringify(message), seen)) as SendAccepted;
    return { ...accepted, idempotencyKey, window };
  }

  /** A recipient's customer-service window and opt-out on a channel (the default one when absent). */
  async recipient(to: string, opts: { channel?: string } = {}): Promise<Recipient> {
    return (await this.#once('GET', `/v1/recipients/${encodeURIComponent(to)}${channelQuery(opts)}`, {})) as Recipient;
  }

  /** One page of a channel's opted-out recipients (an admin key). */
  async listOptOuts(query: { channel?: string; cursor?: string; limit?: number } = {}): Promise<OptOutList> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
    return (await this.#once('GET', `/v1/opt-outs${params.size > 0 ? `?${params}` : ''}`, {})) as OptOutList;
  }

  /** Opts a recipient out on a channel (an admin key); idempotent. */
  async optOut(to: string, opts: { channel?: string } = {}): Promise<Recipient> {
    return (await this.#once('PUT', `/v1/opt-outs/${encodeURIComponent(to)}${channelQuery(opts)}`, {})) as Recipient;
  }

  /** Opts a recipient back in on a channel (an admin key). */
  async optIn(to: string, opts: { channel?: string } = {}): Promise<Recipient> {
    return (await this.#once('DELETE', `/v1/opt-outs/${encodeURIComponent(to)}${channelQuery(opts)}`, {})) as Recipient;
  }

  /** Sends 1–100 messages; each item without an `idempotencyKey` gets one, so a retried batch makes no duplicates. */
  async sendBatch(messages: BatchRequest['messages'], opts: Omit<SendOptions, 'idempotencyKey'> = {}): Promise<BatchResponse> {
    const items = messages.map((m) => (m.idempotencyKey === undefined ? { ...m, idempotencyKey: newKey() } : m));
    return (await this.#retrying('POST', '/v1/messages/batch', sendHeaders(opts), JSON.stringify({ messages: items }))) as BatchResponse;
  }

  /**
   * Marks an inbound message (its CBOT id, `wamid`) read, with the typing indicator when `typing` (Cloud
   * channels); resolves once the relay holds the receipt (202). Retried like a send: the relay takes
   * one receipt per wamid and channel for 24 h, so a retry sends nothing more (`duplicate: true`).
   */
  async markRead(wamid: string, opts: { channel?: string; typing?: boolean } = {}): Promise<ReadAccepted> {
    const qs = opts.channel === undefined ? '' : `?channel=${encodeURIComponent(opts.channel)}`;
    const body = JSON.stringify(opts.typing === undefined ? {} : { typing: opts.typing });
    return (await this.#retrying('POST', `/v1/messages/${encodeURIComponent(wamid)}/read${qs}`, {}, body)) as ReadAccepted;
  }

  /** The message's record: status, attempts, history. */
  async get(id: string): Promise<Message> {
    return (await this.#once('GET', `/v1/messages/${encodeURIComponent(id)}`, {})) as Message;
  }

  /**
   * Cancels a message not yet handed to CBOT: resolves with the `canceled` record. A message already
   * sending or ended is a RelayError with status 409 (`not_cancelable`); an unknown one 404.
   */
  async cancel(id: string): Promise<Message> {
    return (await this.#once('DELETE', `/v1/messages/${encodeURIComponent(id)}`, {})) as Message;
  }

  /** Cancels every unsent message of this key with `tag`; resolves with how many. None of them is sent afterwards. */
  async cancelTag(tag: string): Promise<number> {
    return ((await this.#once('POST', '/v1/messages/cancel', {}, JSON.stringify({ tag }))) as CancelTagResult).canceled;
  }

  /** One page of the caller's messages, newest first. */
  async listPage(query: ListQuery & { cursor?: string } = {}): Promise<MessageList> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
    const qs = params.size > 0 ? `?${params}` : '';
    return (await this.#once('GET', `/v1/messages${qs}`, {})) as MessageList;
  }

  /** The channel's message templates as CBOT lists them (the default channel when none is named). */
  async templates(query: { channel?: string } = {}): Promise<TemplateList> {
    return (await this.#once('GET', `/v1/templates${queryString(query)}`, {})) as TemplateList;
  }

  /** Messages priced per caller, channel, category and type (own counts; an admin key: everyone's). */
  async usage(query: UsageQuery = {}): Promise<UsageReport> {
    return (await this.#once('GET', `/v1/usage${queryString(query)}`, {})) as UsageReport;
  }

  /** Every matching message, newest first, fetching pages as the loop goes. */
  async *list(query: ListQuery = {}): AsyncGenerator<Message, void, undefined> {
    let cursor: string | undefined;
    do {
      const page = await this.listPage({ ...query, ...(cursor === undefined ? {} : { cursor }) });
      yield* page.items;
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
  }

  /**
   * Polls the record until its status is `status` or a later one, or a status that ends it (failed,
   * expired or canceled); resolves with that record, so check its `status`. RelayTimeoutError after `timeoutMs`.
   */
  async waitFor(id: string, status: MessageStatus, opts: { timeoutMs?: number; intervalMs?: number } = {}): Promise<Message> {
    const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
    const interval = opts.intervalMs ?? 250;
    let last: Message | undefined;
    for (;;) {
      last = await this.get(id);
      if (STATUS_RANK[last.status] >= STATUS_RANK[status] || TERMINAL.has(last.status)) return last;
      if (Date.now() + interval > deadline) throw new RelayTimeoutError(`message ${id} is ${last.status}, not ${status}, after the timeout`, last);
      await this.#sleep(interval);
    }
  }

  /** Every channel: active, paused or stopped (and why, until when), backlog, number quality. Needs an admin key (RELAY_ADMIN_KEYS). */
  async channels(): Promise<ChannelList> {
    return (await this.#once('GET', '/v1/channels', {})) as ChannelList;
  }

  /** Holds sending on a channel for `seconds`, or until `resumeChannel` when absent. Admin key. */
  async pauseChannel(id: string, seconds?: number): Promise<Channel> {
    return (await this.#once('POST', `/v1/channels/${encodeURIComponent(id)}/pause`, {}, JSON.stringify(seconds === undefined ? {} : { seconds }))) as Channel;
  }

  /** Clears a channel's pause or stop (368 / 131031). Admin key. */
  async resumeChannel(id: string): Promise<Channel> {
    return (await this.#once('POST', `/v1/channels/${encodeURIComponent(id)}/resume`, {})) as Channel;
  }

  /**
   * Uploads a file to the channel's CBOT (streamed through the relay, never held whole) and resolves
   * with CBOT's media id, to send by `id`. Not retried: a stream cannot be sent twice. Uses the global
   * fetch (a ReadableStream body needs Node 20+).
   */
  async uploadMedia(file: Uint8Array | Blob | ReadableStream<Uint8Array>, contentType: string, opts: MediaOptions = {}): Promise<MediaUploaded> {
    const res = await fetch(`${this.#base}/v1/media${channelQuery(opts)}`, {
      method: 'POST',
      headers: { Authorization: this.#auth, Accept: 'application/json', 'Content-Type': contentType },
      body: file,
      signal: AbortSignal.timeout(opts.timeoutMs ?? 300_000),
      ...(file instanceof ReadableStream ? { duplex: 'half' } : {}),
    } as RequestInit);
    if (res.status === 201) return (await res.json()) as MediaUploaded;
    throw await errorFrom(res, retryAfterMs(res.headers.get('retry-after')));
  }

  /** Downloads a media file (an upload's id, or an inbound event's `media.id`) through the relay. */
  async downloadMedia(id: string, opts: MediaOptions = {}): Promise<MediaDownload> {
    const res = await fetch(`${this.#base}/v1/media/${encodeURIComponent(id)}${channelQuery(opts)}`, {
      headers: { Authorization: this.#auth },
      signal: AbortSignal.timeout(opts.timeoutMs ?? 300_000),
    });
    if (res.status !== 200 || res.body === null) throw await errorFrom(res, retryAfterMs(res.headers.get('retry-after')));
    const length = res.headers.get('content-length');
    return {
      contentType: res.headers.get('content-type') ?? 'application/octet-stream',
      contentLength: length === null ? undefined : Number(length),
      body: res.body as ReadableStream<Uint8Array>,
    };
  }

  async #retrying(method: string, path: string, headers: Record<string, string>, body: string, onHeaders?: (h: { get(name: string): string | null }) => void): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      let wait: number;
      try {
        return await this.#once(method, path, headers, body, onHeaders);
      } catch (err) {
        const retryable = err instanceof RelayError ? RETRY_STATUSES.has(err.status) : isNetworkError(err);
        if (!retryable || attempt >= this.#maxAttempts) throw err;
        const given = err instanceof RelayError ? err.retryAfterMs : undefined;
        if (given !== undefined && given > this.#retryMaxMs) throw err;
        // Equal jitter: half the doubled base fixed, half random, so callers refused together spread out.
        const backoff = Math.min(this.#retryMaxMs, this.#retryBaseMs * 2 ** (attempt - 1));
        wait = given ?? backoff / 2 + Math.random() * (backoff / 2);
      }
      await this.#sleep(wait);
    }
  }

  async #once(method: string, path: string, headers: Record<string, string>, body?: string, onHeaders?: (h: { get(name: string): string | null }) => void): Promise<unknown> {
    const res = await this.#fetch(`${this.#base}${path}`, {
      method,
      headers: { Authorization: this.#auth, Accept: 'application/json', ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body }),
      signal: AbortSignal.timeout(this.#timeoutMs),
    });
    if (res.status >= 200 && res.status < 300) {
      onHeaders?.(res.headers);
      return JSON.parse(await res.text()) as unknown;
    }
    throw await errorFrom(res, retryAfterMs(res.headers.get('retry-after')));
  }
}

function channelQuery(opts: MediaOptions): string {
  return opts.channel === undefined ? '' : `?channel=${encodeURIComponent(opts.channel)}`;
}

function queryString(query: object): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  return params.size > 0 ? `?${params}` : '';
}

function sendHeaders(opts: Omit<SendOptions, 'idempotencyKey'>): Record<string, string> {
  const h: Record<string, string> = {};
  if (opts.priority !== undefined) h['X-Relay-Priority'] = opts.priority;
  if (opts.expiresInS !== undefined) h['X-Relay-Expires-In'] = String(opts.expiresInS);
  if (opts.sendAt !== undefined) h['X-Relay-Send-At'] = opts.sendAt instanceof Date ? opts.sendAt.toISOString() : opts.sendAt;
  if (opts.tag !== undefined) h['X-Relay-Tag'] = opts.tag;
  return h;
}

function newKey(): string {
  return `cl-${globalThis.crypto.randomUUID()}`;
}

/** fetch's own failures (connection refused or reset, DNS, our timeout), as opposed to an answer. */
function isNetworkError(err: unknown): boolean {
  return err instanceof TypeError || (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError'));
}
