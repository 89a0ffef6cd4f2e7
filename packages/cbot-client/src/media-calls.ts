import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { request } from 'undici';
import type { CbotApi } from './api-flavour.js';
import type { MediaFailure } from './media-outcome.js';
import { classifyMediaAnswer, classifyMediaNetworkError } from './media-outcome.js';

export interface MediaContext {
  agent: Dispatcher;
  baseUrl: string;
  api: CbotApi;
  /** The key header, lower-case name → value. */
  keyHeader: [string, string];
  /** CBOT's answer (headers) within this. */
  timeoutMs: number;
  /** A body moving no byte for this long is cut. */
  idleTimeoutMs: number;
  /** Cloud: `base` fetches the look-up's URL from the base URL's origin. */
  mediaHost: 'cdn' | 'base';
}

export interface MediaUploadInput {
  /** The file's bytes, read as CBOT takes them (backpressure reaches the caller's socket). */
  body: Readable;
  /** Its media type, as the caller gave it. */
  contentType: string;
  /** When known (a raw body with Content-Length), CBOT gets it too. */
  contentLength?: number;
  filename?: string;
  signal?: AbortSignal;
}

export type MediaUpload = { ok: true; id: string } | MediaFailure;

export type MediaDownload = { ok: true; contentType: string; contentLength: number | undefined; body: Readable } | MediaFailure;

/** Error bodies of media calls are small; a larger one is cut (its text only feeds a message). */
const ERROR_BODY_MAX = 64 * 1024;

/** On-Premises: POST {base}v1/media with the raw body. Cloud: POST {base}media, multipart with messaging_product. */
export async function uploadMedia(ctx: MediaContext, input: MediaUploadInput): Promise<MediaUpload> {
  const headers: Record<string, string> = { [ctx.keyHeader[0]]: ctx.keyHeader[1] };
  let body: Readable = input.body;
  if (ctx.api === 'cloud') {
    const form = cloudForm(input);
    headers['content-type'] = form.contentType;
    if (form.length !== undefined) headers['content-length'] = String(form.length);
    body = form.body;
  } else {
    headers['content-type'] = input.contentType;
    if (input.contentLength !== undefined) headers['content-length'] = String(input.contentLength);
  }
  let res: Dispatcher.ResponseData;
  try {
    res = await request(new URL(ctx.api === 'cloud' ? 'media' : 'v1/media', ctx.baseUrl), {
      method: 'POST',
      headers,
      body,
      dispatcher: ctx.agent,
      // The answer comes after the last byte went up, which may take minutes: the caller's signal bounds it.
      headersTimeout: 0,
      bodyTimeout: ctx.idleTimeoutMs,
      ...(input.signal ? { signal: input.signal } : {}),
    });
  } catch (err) {
    return classifyMediaNetworkError(err);
  }
  const parsed = await readJson(res);
  if (res.statusCode < 200 || res.statusCode > 299) return classifyMediaAnswer(res.statusCode, parsed, header(res, 'retry-after'));
  const id = ctx.api === 'cloud' ? (parsed as { id?: unknown } | undefined)?.id : (parsed as { media?: { id?: unknown }[] } | undefined)?.media?.[0]?.id;
  if (typeof id !== 'string' || id === '') return { ok: false, status: 502, code: 'cbot_error', message: 'CBOT answered the upload without a media id' };
  return { ok: true, id };
}

/**
 * The media's bytes as a stream. On-Premises: GET {base}v1/media/{id}. Cloud: GET {base}{id} answers
 * `{url, mime_type, sha256, file_size}`, then that URL is fetched with the key (its origin replaced by
 * the base URL's when mediaHost is `base`). `id` must already be path-safe.
 */
export async function openMedia(ctx: MediaContext, id: string, signal?: AbortSignal): Promise<MediaDownload> {
  if (ctx.api !== 'cloud') return fetchMedia(ctx, new URL(`v1/media/${id}`, ctx.baseUrl), undefined, signal);
  let res: Dispatcher.ResponseData;
  try {
    res = await get(ctx, new URL(id, ctx.baseUrl), signal);
  } catch (err) {
    return classifyMediaNetworkError(err);
  }
  const info = await readJson(res);
  if (res.statusCode < 200 || res.statusCode > 299) return classifyMediaAnswer(res.statusCode, info, header(res, 'retry-after'));
  const { url, mime_type: mime } = (info ?? {}) as { url?: unknown; mime_type?: unknown };
  let target: URL;
  try {
    target = new URL(String(url));
  } catch {
    return { ok: false, status: 502, code: 'cbot_error', message: 'CBOT answered the media look-up without a valid url' };
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') return { ok: false, status: 502, code: 'cbot_error', message: 'CBOT answered the media look-up with a non-HTTP url' };
  if (ctx.mediaHost === 'base') target = new URL(`${target.pathname}${target.search}`, new URL(ctx.baseUrl).origin);
  return fetchMedia(ctx, target, typeof mime === 'string' ? mime : undefined, signal);
}

async function fetchMedia(ctx: MediaContext, url: URL, mime: string | undefined, signal?: AbortSignal): Promise<MediaDownload> {
  let res: Dispatcher.ResponseData;
  try {
    res = await get(ctx, url, signal);
  } catch (err) {
    return classifyMediaNetworkError(err);
  }
  if (res.statusCode < 200 || res.statusCode > 299) return classifyMediaAnswer(res.statusCode, await readJson(res), header(res, 'retry-after'));
  const length = header(res, 'content-length');
  return {
    ok: true,
    contentType: header(res, 'content-type') ?? mime ?? 'application/octet-stream',
    contentLength: length !== undefined && /^\d{1,15}$/.test(length) ? Number(length) : undefined,
    body: res.body,
  };
}

function get(ctx: MediaContext, url: URL, signal?: AbortSignal): Promise<Dispatcher.ResponseData> {
  return request(url, {
    method: 'GET',
    headers: { [ctx.keyHeader[0]]: ctx.keyHeader[1] },
    dispatcher: ctx.agent,
    headersTimeout: ctx.timeoutMs,
    bodyTimeout: ctx.idleTimeoutMs,
    ...(signal ? { signal } : {}),
  });
}

/** The Cloud upload's multipart body, produced as the file is read (never whole). */
function cloudForm(input: MediaUploadInput): { contentType: string; length: number | undefined; body: Readable } {
  const boundary = `cbot-relay-${randomBytes(12).toString('hex')}`;
  const mime = input.contentType.replace(/[\r\n"]/g, '');
  const filename = (input.filename ?? 'file').replace(/[\r\n"\\]/g, '_');
  const field = (name: string, value: string) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  const head = Buffer.from(
    `${field('messaging_product', 'whatsapp')}${field('type', mime)}--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: ${mime}\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const file = input.body;
  async function* body(): AsyncGenerator<Buffer> {
    yield head;
    for await (const chunk of file) yield chunk as Buffer;
    yield tail;
  }
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    length: input.contentLength === undefined ? undefined : head.length + input.contentLength + tail.length,
    body: Readable.from(body(), { objectMode: false }),
  };
}

async function readJson(res: Dispatcher.ResponseData): Promise<unknown> {
  let text = '';
  try {
    for await (const chunk of res.body) {
      text += (chunk as Buffer).toString('utf8');
      if (text.length > ERROR_BODY_MAX) {
        res.body.destroy();
        return undefined;
      }
    }
    return text === '' ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

function header(res: Dispatcher.ResponseData, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
