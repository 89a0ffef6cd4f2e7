import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCbotSim } from '@cbot-relay/cbot-sim';
import type { CbotSim } from '@cbot-relay/cbot-sim';
import { loadConfig } from '@cbot-relay/config';
import { createConsumer } from '@cbot-relay/consumer';
import type { RelayEvent } from '@cbot-relay/consumer';
import { MEDIA_KINDS } from '@cbot-relay/messages';
import type { MediaKind } from '@cbot-relay/messages';
import { createLogger, createMetrics } from '@cbot-relay/observability';
import { RelayKeys } from '@cbot-relay/records';
import { startTestRedis, uniquePrefix, waitFor } from '@cbot-relay/testing';
import type { TestRedis } from '@cbot-relay/testing';
import { startRelay } from './relay.js';
import type { Relay } from './relay.js';
import { httpUpload, multipart } from './test-kit/http-upload.js';

// sales: On-Premises CBOT (key in D360-API-KEY); support-tr: Cloud; tr-base: the same Cloud CBOT with
// mediaHost "base"; dead: nothing listens at its base URL.
const CRM = 'crm-key-123456';
const SALES_ONLY = 'sales-only-key-1';
const MAX_UPLOADS = 3;
let redis: TestRedis;
let onprem: CbotSim;
let cloud: CbotSim;
let relay: Relay;
let base: string;
let prefix: string;
let consumerRedis: Redis;
let probe: Redis;
let consumer: { close(): Promise<void> };
const events: RelayEvent[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
  onprem = await startCbotSim({ apiKey: 'sales-cbot-key', apiKeyHeader: 'D360-API-KEY', knobs: { statusCallbacks: false } });
  cloud = await startCbotSim({ api: 'cloud', apiKey: 'tr-cbot-key', knobs: { statusCallbacks: false } });
  const file = join(mkdtempSync(join(tmpdir(), 'relay-media-')), 'channels.json');
  writeFileSync(
    file,
    JSON.stringify({
      channels: [
        { id: 'sales', api: 'onprem', baseUrl: onprem.url, apiKey: 'sales-cbot-key', apiKeyHeader: 'D360-API-KEY', default: true },
        { id: 'support-tr', api: 'cloud', baseUrl: cloud.url, apiKey: 'tr-cbot-key' },
        { id: 'tr-base', api: 'cloud', baseUrl: cloud.url, apiKey: 'tr-cbot-key', mediaHost: 'base' },
        { id: 'dead', api: 'onprem', baseUrl: 'http://127.0.0.1:1/', apiKey: 'nobody' },
      ],
    }),
  );
  const config = loadConfig({
    CHANNELS_FILE: file,
    RELAY_API_KEYS: `crm:${CRM},sales-app:${SALES_ONLY}:sales`,
    QUEUE_PREFIX: uniquePrefix('media'),
    PORT: '0',
    OPS_PORT: 'off',
    MEDIA_MAX_CONCURRENT_UPLOADS: String(MAX_UPLOADS),
    MEDIA_IDLE_TIMEOUT_MS: '1500',
  });
  prefix = config.queuePrefix;
  relay = await startRelay({ config, redisUrl: redis.url, log: createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), metrics: createMetrics(), host: '127.0.0.1' });
  base = `http://127.0.0.1:${relay.port}`;
  onprem.setWebhook(`${base}/webhooks/cbot/sales`);
  cloud.setWebhook(`${base}/webhooks/cbot/support-tr`);
  probe = new Redis(redis.url);
  consumerRedis = new Redis(redis.url, { maxRetriesPerRequest: null });
  consumer = createConsumer({ subscriber: 'default', connection: consumerRedis, prefix, concurrency: 4, handler: async (e) => void events.push(e) });
});

afterAll(async () => {
  await consumer?.close();
  consumerRedis?.disconnect();
  probe?.disconnect();
  await relay?.close();
  await onprem?.close();
  await cloud?.close();
  await redis?.close();
});

const auth = (key = CRM) => ({ authorization: `Bearer ${key}` });
const TYPE: Record<MediaKind, string> = { image: 'image/jpeg', audio: 'audio/ogg; codecs=opus', video: 'video/mp4', document: 'application/pdf', sticker: 'image/webp' };
const KINDS = Object.keys(MEDIA_KINDS) as MediaKind[];
const simOf = (channel: string) => (channel === 'sales' ? onprem : cloud);

/** A raw upload of `size` zero bytes; chunked (no Content-Length) unless `declare`. */
function raw(channel: string, type: string | undefined, size: number | Buffer, declare = true, key = CRM) {
  const length = typeof size === 'number' ? size : size.length;
  return httpUpload({
    url: `${base}/v1/media?channel=${channel}`,
    headers: { ...auth(key), ...(type === undefined ? {} : { 'content-type': type }), ...(declare ? { 'content-length': length } : {}) },
    parts: [size],
  });
}

/** A multipart upload: the file part of `size` zero bytes (or these bytes), chunked. */
function form(channel: string, type: string, size: number | Buffer) {
  const m = multipart({ type, filename: 'x.bin' }, { caption: 'ignored' });
  return httpUpload({ url: `${base}/v1/media?channel=${channel}`, headers: { ...auth(), 'content-type': m.contentType }, parts: [m.head, size, m.tail] });
}

async function download(channel: string, id: string, key = CRM): Promise<Response> {
  return fetch(`${base}/v1/media/${id}?channel=${channel}`, { headers: auth(key) });
}

describe.each([
  ['On-Premises', 'sales'],
  ['Cloud', 'support-tr'],
])('media upload (%s)', (_name, channel) => {
  it.each(KINDS)('takes a %s at its size limit and refuses one byte more with 413', async (kind) => {
    const max = MEDIA_KINDS[kind].maxBytes;
    const before = simOf(channel).media().uploads;
    // At the limit: raw with Content-Length on one API, multipart on the other.
    const ok = channel === 'sales' ? await raw(channel, TYPE[kind], max) : await form(channel, TYPE[kind], max);
    expect(ok.status, JSON.stringify(ok.json)).toBe(201);
    expect(ok.json).toEqual({ id: expect.stringMatching(/^\d+$/), channel });
    expect(simOf(channel).media().uploads).toBe(before + 1);
    // One byte past, sent without a declared length: the byte counter cuts it.
    const over = channel === 'sales' ? await raw(channel, TYPE[kind], max + 1, false) : await form(channel, TYPE[kind], max + 1);
    expect(over.status).toBe(413);
    expect(over.json.error.code).toBe('payload_too_large');
    expect(simOf(channel).media().uploads).toBe(before + 1);
  });

  it('refuses a declared length past the limit before reading it, and types WhatsApp does not take with 415', async () => {
    const declared = await httpUpload({ url: `${base}/v1/media?channel=${channel}`, headers: { ...auth(), 'content-type': 'image/png', 'content-length': 6 * 1024 * 1024 }, parts: [10] });
    expect(declared.status).toBe(413);
    for (const type of ['image/gif', 'application/zip', 'text/html']) {
      const r = await raw(channel, type, 100);
      expect([r.status, r.json.error.code]).toEqual([415, 'unsupported_media_type']);
    }
    expect((await raw(channel, undefined, 100)).status).toBe(415);
    const gz = await httpUpload({ url: `${base}/v1/media?channel=${channel}`, headers: { ...auth(), 'content-type': 'image/png', 'content-encoding': 'gzip', 'content-length': 10 }, parts: [10] });
    expect([gz.status, gz.json.error.code]).toEqual([415, 'unsupported_encoding']);
    const part = await form(channel, 'application/x-msdownload', 100);
    expect([part.status, part.json.error.code]).toEqual([415, 'unsupported_media_type']);
  });

  it('uploads raw and multipart alike, and downloads the bytes with Content-Type and Content-Length', async () => {
    const png = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 251));
    const a = await raw(channel, 'image/png', png);
    const b = await form(channel, 'image/png', png);
    expect([a.status, b.status]).toEqual([201, 201]);
    for (const id of [a.json.id, b.json.id]) {
      const res = await download(channel, id);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/png');
      expect(res.headers.get('content-length')).toBe('3000');
      expect(Buffer.from(await res.arrayBuffer()).equals(png)).toBe(true);
    }
  });

  it('answers 404 for a media id CBOT does not know, and remembers it for 5 min without asking CBOT again', async () => {
    const id = channel === 'sales' ? 'no-such-media-1' : '99999999999';
    const lookups = simOf(channel).media().lookups;
    const first = await download(channel, id);
    expect([first.status, ((await first.json()) as any).error.code]).toEqual([404, 'media_not_found']);
    expect(simOf(channel).media().lookups).toBe(lookups + 1);
    const second = await download(channel, id);
    expect(second.status).toBe(404);
    await second.body?.cancel();
    expect(simOf(channel).media().lookups).toBe(lookups + 1);
    const ttl = await probe.ttl(new RelayKeys(prefix).mediaMissing(channel, id));
    expect(ttl).toBeGreaterThan(290);
    expect(ttl).toBeLessThanOrEqual(300);
  });
});

describe('media: auth, channels and limits', () => {
  it('wants a key (401), a known channel (400) the key may use (403), on upload and download', async () => {
    const noKey = await httpUpload({ url: `${base}/v1/media`, headers: { 'content-type': 'image/png', 'content-length': 10 }, parts: [10] });
    expect([noKey.status, noKey.json.error.code]).toEqual([401, 'unauthorized']);
    expect((await fetch(`${base}/v1/media/123`)).status).toBe(401);
    const unknown = await raw('nowhere', 'image/png', 10);
    expect([unknown.status, unknown.json.error.code]).toEqual([400, 'unknown_channel']);
    const forbidden = await raw('support-tr', 'image/png', 10, true, SALES_ONLY);
    expect([forbidden.status, forbidden.json.error.code]).toEqual([403, 'channel_forbidden']);
    expect((await download('support-tr', '123', SALES_ONLY)).status).toBe(403);
    expect((await download('nowhere', '123')).status).toBe(400);
    // Without ?channel= the default channel (sales) is used, which the sales-only key may.
    expect((await raw('', 'image/png', 10, true, SALES_ONLY)).status).toBe(201);
  });

  it('answers 502 with a clear error when CBOT cannot be reached', async () => {
    const r = await raw('dead', 'image/png', 100);
    expect(r.status).toBe(502);
    expect(r.json.error).toMatchObject({ code: 'cbot_unreachable', message: expect.stringContaining('CBOT') });
    expect((await download('dead', '123')).status).toBe(502);
  });

  it('streams: CBOT receives the first bytes before the caller has sent the rest', async () => {
    const before = onprem.media().bytesReceived;
    const size = 4 * 1024 * 1024;
    const r = await httpUpload({
      url: `${base}/v1/media?channel=sales`,
      headers: { ...auth(), 'content-type': 'video/mp4', 'content-length': size },
      parts: [1024 * 1024, size - 1024 * 1024],
      between: async () => void (await waitFor(() => onprem.media().bytesReceived - before >= 512 * 1024, { what: 'the simulator to receive the first part' })),
    });
    expect(r.status).toBe(201);
  });

  it('cuts a stalled upload (408) and limits uploads in flight (429)', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const held = Array.from({ length: MAX_UPLOADS }, () =>
      httpUpload({ url: `${base}/v1/media?channel=sales`, headers: { ...auth(), 'content-type': 'video/mp4', 'content-length': 2048 }, parts: [1024, 1024], between: () => gate }),
    );
    await waitFor(async () => (await raw('sales', 'image/png', 10)).status === 429, { what: 'the upload limit to be reached' });
    const refused = await raw('sales', 'image/png', 10);
    expect([refused.status, refused.json.error.code, refused.headers['retry-after']]).toEqual([429, 'too_many_uploads', '1']);
    // Nothing more arrives: MEDIA_IDLE_TIMEOUT_MS (1.5 s) ends each.
    const answers = await Promise.all(held);
    release();
    expect(answers.map((a) => a.status)).toEqual(Array(MAX_UPLOADS).fill(408));
    // Their slots come back once CBOT's side of each upload is aborted.
    await waitFor(async () => (await raw('sales', 'image/png', 10)).status === 201, { what: 'the upload slots to be released' });
  });
});

describe('media: hostile multipart', () => {
  const post = (contentType: string, parts: (string | Buffer | number)[]) =>
    httpUpload({ url: `${base}/v1/media?channel=sales`, headers: { ...auth(), 'content-type': contentType }, parts });

  it('answers 400 for a malformed body, a missing boundary, no file part or a huge part header', async () => {
    const noBoundary = await post('multipart/form-data', ['--x\r\n\r\n']);
    expect([noBoundary.status, noBoundary.json.error.code]).toEqual([400, 'malformed_multipart']);
    const noFile = multipart(undefined, { messaging_product: 'whatsapp' });
    const missing = await post(noFile.contentType, [noFile.head, noFile.tail]);
    expect([missing.status, missing.json.error.code]).toEqual([400, 'missing_file']);
    const garbage = await post('multipart/form-data; boundary=abc', ['--abc\r\nContent-Disposition: form-data; name="file"\r\nContent-Type: image/png\r\n\r\nAAAA']);
    expect(garbage.status).toBe(400);
    const m = multipart({ type: 'image/png' });
    const hugeHeader = m.head.replace('Content-Type:', `X-Pad: ${'a'.repeat(100_000)}\r\nContent-Type:`);
    const huge = await post(m.contentType, [hugeHeader, 10, m.tail]);
    expect(huge.status).toBe(400);
  });

  it('answers 431 for request headers past what Node reads', async () => {
    const r = await fetch(`${base}/v1/media`, { method: 'POST', headers: { ...auth(), 'content-type': 'image/png', 'x-pad': 'a'.repeat(64 * 1024) }, body: 'x' }).catch(() => undefined);
    expect(r === undefined || r.status === 431).toBe(true);
  });
});

describe('media: downloads on Cloud and inbound events', () => {
  it('fetches the look-up URL as given, or from the base URL with mediaHost "base"', async () => {
    const up = await raw('support-tr', 'application/pdf', Buffer.from('%PDF-1.4 test'));
    expect(up.status).toBe(201);
    cloud.setKnobs({ mediaUrlBase: 'http://127.0.0.1:1/' });
    try {
      const cdn = await download('support-tr', up.json.id);
      expect(cdn.status).toBe(502);
      await cdn.body?.cancel();
      const rewritten = await download('tr-base', up.json.id);
      expect(rewritten.status).toBe(200);
      expect(await rewritten.text()).toBe('%PDF-1.4 test');
    } finally {
      cloud.setKnobs({ mediaUrlBase: '' });
    }
  });

  it.each([
    ['On-Premises', 'sales', 'onprem'],
    ['Cloud', 'support-tr', 'cloud'],
  ] as const)('gives %s media messages a media reference the relay serves', async (_name, channel, format) => {
    const up = await raw(channel, 'audio/ogg', Buffer.from('OggS voice note'));
    for (const kind of ['image', 'document', 'voice', 'sticker'] as const) {
      const { payload } = await simOf(channel).deliverInbound({ kind, format, mediaId: up.json.id });
      const wamid = ((payload as any).messages ?? (payload as any).entry[0].changes[0].value.messages)[0].id as string;
      await waitFor(() => events.some((e) => (e.data as any)?.id === wamid), { what: `the ${kind} event` });
      const event = events.find((e) => (e.data as any)?.id === wamid)! as RelayEvent & { media?: any };
      expect(event.media).toEqual({ id: up.json.id, mimeType: expect.any(String), url: `/v1/media/${up.json.id}?channel=${channel}` });
    }
    const res = await fetch(`${base}/v1/media/${up.json.id}?channel=${channel}`, { headers: auth() });
    expect(await res.text()).toBe('OggS voice note');
  });
});
