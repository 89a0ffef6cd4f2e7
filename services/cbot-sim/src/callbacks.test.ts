import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { inboundKinds, startCbotSim, type CbotSim, type CbotSimOptions } from './index.js';

interface Hit {
  headers: IncomingHttpHeaders;
  raw: string;
  body: any;
}

/** A real webhook endpoint; `answer` picks the status of each call (1-based). */
async function startReceiver(answer: (n: number) => number = () => 200) {
  const hits: Hit[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      hits.push({ headers: req.headers, raw, body: JSON.parse(raw) });
      res.writeHead(answer(hits.length)).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/cbot`;
  const close = () => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return { url, hits, close };
}

const basic = `Basic ${Buffer.from('cbot-relay:s3cr3t-pass').toString('base64')}`;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(answer?: (n: number) => number, opts: Partial<CbotSimOptions> = {}) {
  const receiver = await startReceiver(answer);
  cleanups.push(receiver.close);
  const sim = await startCbotSim({
    apiKey: 'k1',
    ...opts,
    knobs: { statusDelaysMs: [0, 5, 10], callbackRetry: { attempts: 5, initialDelayMs: 5, maxDelayMs: 20 }, ...opts.knobs },
  });
  cleanups.push(() => sim.close());
  return { sim, receiver };
}

async function call(sim: CbotSim, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${sim.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as any };
}

const auth = { authorization: 'Bearer k1' };
const sendText = (sim: CbotSim) => call(sim, 'POST', 'v1/messages', { to: '905551112233', type: 'text', text: { body: 'x' } }, auth);

describe('webhook registration', () => {
  it('stores the URL and headers with the API key and never shows the headers', async () => {
    const { sim, receiver } = await setup();
    const hook = { url: receiver.url, headers: { Authorization: basic } };
    expect(await call(sim, 'POST', 'v1/configs/webhook', hook)).toMatchObject({ status: 401 });
    expect(await call(sim, 'POST', 'v1/configs/webhook', hook, auth)).toEqual({ status: 200, json: { url: receiver.url } });
    expect(await call(sim, 'GET', 'v1/configs/webhook', undefined, auth)).toEqual({ status: 200, json: { url: receiver.url } });
    expect(sim.webhook()).toEqual({ url: receiver.url, headers: { Authorization: basic } });
  });

  it('rejects a webhook URL that is not http(s)', async () => {
    const { sim } = await setup();
    const res = await call(sim, 'POST', 'v1/configs/webhook', { url: 'ftp://x/' }, auth);
    expect(res.status).toBe(400);
    expect(res.json.errors[0].details).toMatch(/^url:/);
    expect(await call(sim, 'GET', 'v1/configs/webhook', undefined, auth)).toEqual({ status: 200, json: { url: null } });
  });
});

describe('status callbacks', () => {
  it('posts sent, delivered and read in order with the stored Basic auth', async () => {
    const { sim, receiver } = await setup();
    await call(sim, 'POST', 'v1/configs/webhook', { url: receiver.url, headers: { Authorization: basic } }, auth);
    const wamid = (await sendText(sim)).json.messages[0].id;
    await vi.waitFor(() => expect(receiver.hits).toHaveLength(3));
    expect(receiver.hits.map((h) => h.body.statuses[0].status)).toEqual(['sent', 'delivered', 'read']);
    for (const hit of receiver.hits) {
      expect(hit.headers.authorization).toBe(basic);
      expect(hit.headers['content-type']).toBe('application/json');
      expect(hit.body.statuses[0]).toMatchObject({ id: wamid, recipient_id: '905551112233', timestamp: expect.stringMatching(/^\d{10}$/) });
    }
    const [sent, delivered, read] = receiver.hits.map((h) => h.body.statuses[0]);
    expect(sent.conversation).toMatchObject({ id: expect.stringMatching(/^[0-9a-f]{32}$/), expiration_timestamp: expect.any(Number), origin: { type: 'service' } });
    expect(sent.pricing).toEqual({ billable: true, pricing_model: 'CBP', category: 'service' });
    expect(delivered.conversation.id).toBe(sent.conversation.id);
    expect(delivered.pricing).toBeDefined();
    expect(read.conversation).toBeUndefined();
    expect(sim.callbacks().map((c) => [c.kind, c.lastStatus])).toEqual([['status', 200], ['status', 200], ['status', 200]]);
  });

  it('retries a callback that is not answered 200 and keeps the order', async () => {
    const { sim, receiver } = await setup((n) => (n <= 2 ? 500 : 200));
    sim.setWebhook(receiver.url);
    await sendText(sim);
    await vi.waitFor(() => expect(receiver.hits).toHaveLength(5));
    expect(receiver.hits.map((h) => h.body.statuses[0].status)).toEqual(['sent', 'sent', 'sent', 'delivered', 'read']);
    expect(sim.callbacks()[0]).toMatchObject({ attempts: 3, lastStatus: 200, deliveries: [{ attempts: 3, status: 200, state: 'delivered' }] });
  });

  it('gives up after callbackRetry.attempts', async () => {
    const { sim, receiver } = await setup(() => 503, { knobs: { statusCallbacks: false, callbackRetry: { attempts: 3, initialDelayMs: 1, maxDelayMs: 2 } } });
    sim.setWebhook(receiver.url);
    const { done } = await sim.deliverCallback({ hello: 1 });
    expect((await done).deliveries).toEqual([{ attempts: 3, status: 503, state: 'failed' }]);
    expect(receiver.hits).toHaveLength(3);
  });

  it('sends none when statusCallbacks is false', async () => {
    const { sim, receiver } = await setup(undefined, { knobs: { statusCallbacks: false } });
    sim.setWebhook(receiver.url);
    await sendText(sim);
    const { done } = await sim.deliverCallback({ marker: true });
    await done;
    expect(receiver.hits.map((h) => h.body)).toEqual([{ marker: true }]);
  });

  it('signs callbacks with X-Hub-Signature-256 when an app secret is set', async () => {
    const { sim, receiver } = await setup(undefined, { appSecret: 'test_app_secret', knobs: { statusCallbacks: false } });
    sim.setWebhook(receiver.url);
    await (await sim.deliverCallback({ a: 'ş' })).done;
    const hit = receiver.hits[0];
    const expected = createHmac('sha256', 'test_app_secret').update(hit?.raw ?? '').digest('hex');
    expect(hit?.headers['x-hub-signature-256']).toBe(`sha256=${expected}`);
  });
});

// Cloud sends voice notes as audio marked `voice: true`; On-Premises calls them `voice`.
const expectedType = (kind: string, format: string): string =>
  kind.startsWith('interactive') ? 'interactive' : kind === 'unknown' && format === 'cloud' ? 'unsupported' : kind === 'voice' && format === 'cloud' ? 'audio' : kind;

describe('inbound callbacks', () => {
  it.each(inboundKinds.flatMap((kind) => (['onprem', 'cloud'] as const).map((format) => [kind, format] as const)))(
    'delivers a realistic %s message in %s shape',
    async (kind, format) => {
      const { sim, receiver } = await setup();
      sim.setWebhook(receiver.url);
      const res = await call(sim, 'POST', '_sim/inbound', { kind, format, from: '905559998877', name: 'Ayşe', wait: true });
      expect(res.status).toBe(200);
      expect(res.json.callback.deliveries).toEqual([{ attempts: 1, status: 200, state: 'delivered', deliveredAt: expect.any(String) }]);
      expect(receiver.hits.map((h) => h.body)).toEqual([res.json.payload]);
      const body = receiver.hits[0]?.body;
      const value = format === 'cloud' ? body.entry[0].changes[0].value : body;
      if (format === 'cloud') {
        expect(body.object).toBe('whatsapp_business_account');
        expect(value.messaging_product).toBe('whatsapp');
        expect(body.entry[0].changes[0].field).toBe('messages');
      }
      expect(value.contacts).toEqual([{ profile: { name: 'Ayşe' }, wa_id: '905559998877' }]);
      const message = value.messages[0];
      expect(message).toMatchObject({ from: '905559998877', id: expect.any(String), timestamp: expect.stringMatching(/^\d+$/) });
      expect(message.id.startsWith('wamid.')).toBe(format === 'cloud');
      expect(message.type).toBe(expectedType(kind, format));
      expect(message[message.type] ?? message.errors).toBeDefined();
    },
  );

  it('uses the given text and gives each message a fresh id', async () => {
    const { sim, receiver } = await setup();
    sim.setWebhook(receiver.url);
    const a = await sim.deliverInbound({ kind: 'text', text: 'Kargom nerede?' });
    const b = await sim.deliverInbound({ kind: 'text' });
    await Promise.all([a.done, b.done]);
    expect(receiver.hits[0]?.body.messages[0].text).toEqual({ body: 'Kargom nerede?' });
    expect(receiver.hits[0]?.body.messages[0].id).not.toBe(receiver.hits[1]?.body.messages[0].id);
  });

  it('redelivers the same bytes `times` times, and again on /_sim/redeliver', async () => {
    const { sim, receiver } = await setup();
    sim.setWebhook(receiver.url);
    const first = await call(sim, 'POST', '_sim/inbound', { kind: 'image', times: 3 });
    await vi.waitFor(() => expect(receiver.hits).toHaveLength(3));
    const again = await call(sim, 'POST', '_sim/redeliver', { callbackId: first.json.callbackId, times: 2, concurrent: true, wait: true });
    expect(again.json.callback.deliveries).toHaveLength(5);
    expect(new Set(receiver.hits.map((h) => h.raw)).size).toBe(1);
    expect(receiver.hits).toHaveLength(5);
    expect(await call(sim, 'POST', '_sim/redeliver', { callbackId: 'cb_999' })).toMatchObject({ status: 404 });
  });

  it('delivers an arbitrary payload N times via /_sim/callback', async () => {
    const { sim, receiver } = await setup();
    sim.setWebhook(receiver.url);
    const payload = { statuses: [{ id: 'gBEG1', status: 'deleted', recipient_id: '1', timestamp: '1' }] };
    const res = await call(sim, 'POST', '_sim/callback', { payload, times: 2, wait: true });
    expect(res.json.callback).toMatchObject({ kind: 'custom', attempts: 2 });
    expect(receiver.hits.map((h) => h.body)).toEqual([payload, payload]);
  });

  it('answers 409 when no webhook is registered', async () => {
    const { sim } = await setup();
    expect((await call(sim, 'POST', '_sim/inbound', { kind: 'text' })).status).toBe(409);
    await expect(sim.deliverCallback({})).rejects.toThrow(/no webhook/);
  });
});
