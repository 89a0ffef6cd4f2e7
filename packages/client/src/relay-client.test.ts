import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { STATUS_RANK as RELAY_STATUS_RANK } from '@cbot-relay/messages';
import { RelayClient, RelayError, RelayTimeoutError, STATUS_RANK } from './index.js';

// A real HTTP server playing the relay with scripted answers; the client is the thing under test.

type Answer = (req: IncomingMessage, res: ServerResponse) => void;
interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

async function relay(answers: Answer[]): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const answer = answers[Math.min(seen.length - 1, answers.length - 1)]!;
      answer(req, res);
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, seen };
}

const reply = (status: number, body: unknown, headers: Record<string, string> = {}): Answer => (_req, res) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
};
const refuse = (status: number, code: string, headers: Record<string, string> = {}) => reply(status, { error: { code, message: code } }, headers);
const hangUp: Answer = (req) => req.socket.destroy();
const ID = 'msg_mfx3k2a0b9f1c2d3e4f5a6b70';
const text = { to: '905551112233', type: 'text' as const, text: { body: 'hi' } };

function client(url: string, waits: number[], extra: Partial<ConstructorParameters<typeof RelayClient>[0]> = {}) {
  return new RelayClient({ baseUrl: url, apiKey: 'crm-key-123456', sleep: async (ms) => void waits.push(ms), ...extra });
}

describe('RelayClient.send', () => {
  it('retries 503, 429 and a dropped connection with the same Idempotency-Key, honouring Retry-After', async () => {
    const { url, seen } = await relay([refuse(503, 'unavailable', { 'Retry-After': '1' }), refuse(429, 'backlog_full', { 'Retry-After': '5' }), hangUp, reply(202, { id: ID, status: 'queued' })]);
    const waits: number[] = [];
    const sent = await client(url, waits, { retryBaseMs: 100 }).send(text, { priority: 'high', expiresInS: 30 });
    expect(sent).toMatchObject({ id: ID, status: 'queued' });
    expect(seen).toHaveLength(4);
    const keys = new Set(seen.map((s) => s.headers['idempotency-key']));
    expect([...keys]).toEqual([sent.idempotencyKey]);
    expect(waits.slice(0, 2)).toEqual([1000, 5000]);
    expect(waits[2]).toBeGreaterThanOrEqual(200); // no Retry-After on a dropped connection: backoff (base 100 doubled twice, equal jitter)
    expect(waits[2]).toBeLessThanOrEqual(400);
    for (const s of seen) {
      expect(s).toMatchObject({ method: 'POST', url: '/v1/messages', body: JSON.stringify(text) });
      expect(s.headers).toMatchObject({ authorization: 'Bearer crm-key-123456', 'content-type': 'application/json', 'x-relay-priority': 'high', 'x-relay-expires-in': '30' });
    }
  });

  it('keeps a given key, stops after maxAttempts, and does not retry other refusals', async () => {
    const busy = await relay([refuse(503, 'unavailable', { 'Retry-After': '0' })]);
    const err = await client(busy.url, [], { maxAttempts: 3 }).send(text, { idempotencyKey: 'order-42' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RelayError);
    expect(err).toMatchObject({ status: 503, code: 'unavailable' });
    expect(busy.seen.map((s) => s.headers['idempotency-key'])).toEqual(['order-42', 'order-42', 'order-42']);
    await new Promise((resolve) => server!.close(resolve));

    const bad = await relay([reply(400, { error: { code: 'invalid_message', message: 'no', details: [{ path: 'to', message: 'required' }] } })]);
    const invalid = await client(bad.url, []).send(text).catch((e: unknown) => e);
    expect(invalid).toMatchObject({ status: 400, code: 'invalid_message', details: [{ path: 'to', message: 'required' }] });
    expect(bad.seen).toHaveLength(1);
  });

  it('gives up rather than wait a Retry-After longer than retryMaxMs', async () => {
    const { url, seen } = await relay([refuse(429, 'rate_limited', { 'Retry-After': '120' })]);
    const waits: number[] = [];
    await expect(client(url, waits, { retryMaxMs: 10_000 }).send(text)).rejects.toMatchObject({ status: 429, retryAfterMs: 120_000 });
    expect(seen).toHaveLength(1);
    expect(waits).toEqual([]);
  });
});

describe('RelayClient.sendBatch, list, waitFor', () => {
  it('gives each batch item a key of its own, kept across a retry', async () => {
    const { url, seen } = await relay([refuse(503, 'unavailable', { 'Retry-After': '0' }), reply(207, { results: [{ status: 202, id: ID }, { status: 202, id: ID }] })]);
    await client(url, []).sendBatch([text, { ...text, idempotencyKey: 'mine' }]);
    const bodies = seen.map((s) => JSON.parse(s.body) as { messages: { idempotencyKey: string }[] });
    expect(bodies[0]).toEqual(bodies[1]);
    const [generated, mine] = bodies[0]!.messages.map((m) => m.idempotencyKey);
    expect(mine).toBe('mine');
    expect(generated).toMatch(/^[\x21-\x7e]{1,255}$/);
  });

  it("reads the recipient's window from X-Relay-Window, and calls the recipient and opt-out routes", async () => {
    const view = { to: '905551112233', channel: 'sales', lastInboundAt: null, window: 'unknown', windowClosesAt: null, optedOut: true, optedOutAt: '2026-12-06T00:00:00.000Z' };
    const { url, seen } = await relay([
      reply(202, { id: ID, status: 'queued' }, { 'X-Relay-Window': 'closed' }),
      reply(200, view),
      reply(200, { items: [], nextCursor: null }),
      reply(200, view),
      reply(200, view),
    ]);
    const c = client(url, []);
    expect(await c.send(text)).toMatchObject({ id: ID, window: 'closed' });
    expect(await c.recipient('+905551112233', { channel: 'sales' })).toEqual(view);
    expect(await c.listOptOuts({ channel: 'sales', limit: 10 })).toEqual({ items: [], nextCursor: null });
    await c.optOut('905551112233');
    await c.optIn('905551112233', { channel: 'sales' });
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      'POST /v1/messages',
      'GET /v1/recipients/%2B905551112233?channel=sales',
      'GET /v1/opt-outs?channel=sales&limit=10',
      'PUT /v1/opt-outs/905551112233',
      'DELETE /v1/opt-outs/905551112233?channel=sales',
    ]);
  });

  it('lists across pages by cursor', async () => {
    const rec = (n: number) => ({ id: `${ID.slice(0, -1)}${n}`, status: 'sent' });
    const { url, seen } = await relay([reply(200, { items: [rec(1), rec(2)], nextCursor: 'c2' }), reply(200, { items: [rec(3)], nextCursor: null })]);
    const ids: string[] = [];
    for await (const m of client(url, []).list({ to: '905551112233', limit: 2 })) ids.push(m.id);
    expect(ids).toEqual([rec(1).id, rec(2).id, rec(3).id]);
    expect(seen.map((s) => s.url)).toEqual(['/v1/messages?to=905551112233&limit=2', '/v1/messages?to=905551112233&limit=2&cursor=c2']);
  });

  it('reads templates and usage with their queries, and surfaces a refusal as a RelayError', async () => {
    const list = { channel: 'sales', fetchedAt: '2026-12-06T00:00:00.000Z', templates: [{ name: 'hello_world', language: 'en_US', status: 'APPROVED' }] };
    const usage = { since: '2026-12-01T00:00:00.000Z', until: '2026-12-07T00:00:00.000Z', items: [{ caller: 'crm', channel: 'sales', category: 'utility', type: 'regular', count: 2 }] };
    const { url, seen } = await relay([reply(200, list), reply(200, usage), reply(200, usage), refuse(400, 'invalid_query')]);
    const c = client(url, []);
    expect(await c.templates({ channel: 'sales' })).toEqual(list);
    expect(await c.usage({ since: '2026-12-01T00:00:00Z', caller: 'crm' })).toEqual(usage);
    expect(await c.usage()).toEqual(usage);
    await expect(c.usage({ since: 'yesterday' })).rejects.toMatchObject({ status: 400, code: 'invalid_query' });
    expect(seen.map((s) => s.url)).toEqual(['/v1/templates?channel=sales', '/v1/usage?since=2026-12-01T00%3A00%3A00Z&caller=crm', '/v1/usage', '/v1/usage?since=yesterday']);
  });

  it('waits until the status or a later one, stops on failed, and times out', async () => {
    const steps = ['queued', 'sending', 'delivered'].map((status) => reply(200, { id: ID, status }));
    const walk = await relay(steps);
    expect((await client(walk.url, []).waitFor(ID, 'sent', { intervalMs: 1 })).status).toBe('delivered');
    expect(walk.seen.map((s) => s.url)).toEqual([`/v1/messages/${ID}`, `/v1/messages/${ID}`, `/v1/messages/${ID}`]);
    await new Promise((resolve) => server!.close(resolve));

    const failed = await relay([reply(200, { id: ID, status: 'failed' })]);
    expect((await client(failed.url, []).waitFor(ID, 'delivered')).status).toBe('failed');
    await new Promise((resolve) => server!.close(resolve));

    const stuck = await relay([reply(200, { id: ID, status: 'queued' })]);
    const slow = new RelayClient({ baseUrl: stuck.url, apiKey: 'crm-key-123456' });
    await expect(slow.waitFor(ID, 'sent', { timeoutMs: 50, intervalMs: 10 })).rejects.toBeInstanceOf(RelayTimeoutError);
  });

  it("orders statuses as the relay does", () => {
    expect(STATUS_RANK).toEqual(RELAY_STATUS_RANK);
  });
});

describe('RelayClient channels (admin key)', () => {
  it('lists, pauses (with and without seconds) and resumes, each call once, and refuses as the relay does', async () => {
    const view = { id: 'sales', api: 'onprem', state: 'paused', reason: 'operator', code: null, until: null, rateLimit: 80, backlog: 0, quality: 'UNKNOWN' };
    const { url, seen } = await relay([reply(200, [view]), reply(200, view), reply(200, view), reply(200, { ...view, state: 'active', reason: null }), refuse(404, 'not_found')]);
    const c = client(url, [], { apiKey: 'admin-key-123456' });
    expect(await c.channels()).toEqual([view]);
    expect(await c.pauseChannel('sales', 60)).toEqual(view);
    await c.pauseChannel('sales');
    expect((await c.resumeChannel('sales')).state).toBe('active');
    await expect(c.resumeChannel('a/b')).rejects.toMatchObject({ status: 404, code: 'not_found' });
    expect(seen.map((s) => [s.method, s.url, s.body])).toEqual([
      ['GET', '/v1/channels', ''],
      ['POST', '/v1/channels/sales/pause', '{"seconds":60}'],
      ['POST', '/v1/channels/sales/pause', '{}'],
      ['POST', '/v1/channels/sales/resume', ''],
      ['POST', '/v1/channels/a%2Fb/resume', ''],
    ]);
    expect(seen[0]!.headers.authorization).toBe('Bearer admin-key-123456');
  });
});

describe('RelayClient scheduling and cancel', () => {
  it('sends sendAt and tag as X-Relay-Send-At and X-Relay-Tag', async () => {
    const { url, seen } = await relay([reply(202, { id: ID, status: 'scheduled' })]);
    const at = new Date('2026-12-24T08:00:00.000Z');
    const sent = await client(url, []).send(text, { sendAt: at, tag: 'xmas' });
    expect(sent.status).toBe('scheduled');
    expect(seen[0]!.headers['x-relay-send-at']).toBe('2026-12-24T08:00:00.000Z');
    expect(seen[0]!.headers['x-relay-tag']).toBe('xmas');
  });

  it('cancels one message with DELETE and a tag with POST /v1/messages/cancel; a 409 is a RelayError, not retried', async () => {
    const { url, seen } = await relay([
      reply(200, { id: ID, status: 'canceled' }),
      reply(200, { canceled: 42 }),
      refuse(409, 'not_cancelable'),
    ]);
    const c = client(url, []);
    await expect(c.cancel(ID)).resolves.toMatchObject({ status: 'canceled' });
    await expect(c.cancelTag('xmas')).resolves.toBe(42);
    await expect(c.cancel(ID)).rejects.toMatchObject({ status: 409, code: 'not_cancelable' });
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([`DELETE /v1/messages/${ID}`, 'POST /v1/messages/cancel', `DELETE /v1/messages/${ID}`]);
    expect(JSON.parse(seen[1]!.body)).toEqual({ tag: 'xmas' });
  });

  it('stops waiting at canceled, a status that ends the message', async () => {
    const { url } = await relay([reply(200, { id: ID, status: 'canceled' })]);
    await expect(client(url, []).waitFor(ID, 'sent')).resolves.toMatchObject({ status: 'canceled' });
  });
});

describe('RelayClient.markRead', () => {
  it('posts to /v1/messages/{wamid}/read with the channel and typing, retrying a 503', async () => {
    const { url, seen } = await relay([refuse(503, 'unavailable', { 'Retry-After': '1' }), reply(202, { wamid: 'wamid.a/b', channel: 'sales', status: 'queued', duplicate: false })]);
    const waits: number[] = [];
    const answer = await client(url, waits).markRead('wamid.a/b', { channel: 'sales', typing: true });
    expect(answer).toEqual({ wamid: 'wamid.a/b', channel: 'sales', status: 'queued', duplicate: false });
    expect(seen.map((s) => [s.method, s.url, s.body])).toEqual([
      ['POST', '/v1/messages/wamid.a%2Fb/read?channel=sales', '{"typing":true}'],
      ['POST', '/v1/messages/wamid.a%2Fb/read?channel=sales', '{"typing":true}'],
    ]);
    expect(waits).toEqual([1000]);
  });
});

describe('RelayClient media', () => {
  it('uploads bytes or a stream with their type and channel, and refuses with a RelayError', async () => {
    const { url, seen } = await relay([reply(201, { id: '4242', channel: 'sales' }), reply(201, { id: '4243', channel: 'default' }), refuse(415, 'unsupported_media_type')]);
    const c = client(url, []);
    expect(await c.uploadMedia(new TextEncoder().encode('%PDF'), 'application/pdf', { channel: 'sales' })).toEqual({ id: '4242', channel: 'sales' });
    const stream = new ReadableStream<Uint8Array>({ start: (ctl) => (ctl.enqueue(new TextEncoder().encode('png!')), ctl.close()) });
    expect((await c.uploadMedia(stream, 'image/png')).id).toBe('4243');
    expect(await c.uploadMedia(new Uint8Array(1), 'image/gif').catch((e: unknown) => e)).toMatchObject({ status: 415, code: 'unsupported_media_type' });
    expect(seen.map((s) => [s.url, s.headers['content-type'], s.body])).toEqual([
      ['/v1/media?channel=sales', 'application/pdf', '%PDF'],
      ['/v1/media', 'image/png', 'png!'],
      ['/v1/media', 'image/gif', '\u0000'],
    ]);
  });

  it('downloads as a stream with its type and length', async () => {
    const { url, seen } = await relay([
      (_req, res) => void res.writeHead(200, { 'content-type': 'image/png', 'content-length': '4' }).end('png!'),
      refuse(404, 'media_not_found'),
    ]);
    const c = client(url, []);
    const got = await c.downloadMedia('77', { channel: 'support-tr' });
    expect([got.contentType, got.contentLength, await new Response(got.body).text()]).toEqual(['image/png', 4, 'png!']);
    expect(seen[0]!.url).toBe('/v1/media/77?channel=support-tr');
    expect(await c.downloadMedia('78').catch((e: unknown) => e)).toMatchObject({ status: 404, code: 'media_not_found' });
  });
});
