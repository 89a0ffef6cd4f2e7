import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createConsumer } from '@cbot-relay/consumer';
import type { RelayEvent } from '@cbot-relay/consumer';
import { startCbotSim } from '@cbot-relay/cbot-sim';
import type { CbotSim } from '@cbot-relay/cbot-sim';
import { loadConfig } from '@cbot-relay/config';
import { createLogger, createMetrics } from '@cbot-relay/observability';
import type { Metrics } from '@cbot-relay/observability';
import { startTestRedis, uniquePrefix, waitFor } from '@cbot-relay/testing';
import type { TestRedis } from '@cbot-relay/testing';
import { startRelay } from './relay.js';
import type { Relay } from './relay.js';

// WhatsApp's error codes that protect the number, end to end: sales on an On-Premises CBOT, support-tr
// on a Cloud one, QUALITY_PAUSE_S 2 s so a quality pause ends within the test.
const CRM = 'crm-key-123456';
const ADMIN = 'admin-key-123456';
const QUALITY_PAUSE_S = 2;
let redis: TestRedis;
let onprem: CbotSim;
let cloud: CbotSim;
let relay: Relay;
let base: string;
let metrics: Metrics;
let consumerRedis: Redis;
let consumer: { close(): Promise<void> };
/** Every event the default subscriber got, with the local time it got it. */
const events: { e: RelayEvent; gotAt: number }[] = [];
const SALES_BASIC = `Basic ${Buffer.from('cbot:sales-hook-pass').toString('base64')}`;

beforeAll(async () => {
  redis = await startTestRedis();
  onprem = await startCbotSim({ apiKey: 'sales-cbot-key', apiKeyHeader: 'D360-API-KEY', knobs: { statusCallbacks: false, statusDelaysMs: [0, 0, 0] } });
  cloud = await startCbotSim({ api: 'cloud', apiKey: 'tr-cbot-key', appSecret: 'tr-app-secret', knobs: { statusCallbacks: false, statusDelaysMs: [0, 0, 0] } });
  const dir = mkdtempSync(join(tmpdir(), 'relay-protect-'));
  const file = join(dir, 'channels.json');
  writeFileSync(
    file,
    JSON.stringify({
      channels: [
        { id: 'sales', api: 'onprem', baseUrl: onprem.url, apiKeyEnv: 'SALES_CBOT_KEY', apiKeyHeader: 'D360-API-KEY', webhookUser: 'cbot', webhookPassEnv: 'SALES_HOOK_PASS', rateLimit: 1000, default: true },
        { id: 'support-tr', api: 'cloud', baseUrl: cloud.url, apiKeyEnv: 'TR_CBOT_KEY', appSecretEnv: 'TR_APP_SECRET', rateLimit: 250 },
      ],
    }),
  );
  const config = loadConfig({
    CHANNELS_FILE: file,
    SALES_CBOT_KEY: 'sales-cbot-key',
    SALES_HOOK_PASS: 'sales-hook-pass',
    TR_CBOT_KEY: 'tr-cbot-key',
    TR_APP_SECRET: 'tr-app-secret',
    RELAY_API_KEYS: `crm:${CRM}`,
    RELAY_ADMIN_KEYS: `ops:${ADMIN}`,
    QUEUE_PREFIX: uniquePrefix('relay'),
    QUALITY_PAUSE_S: String(QUALITY_PAUSE_S),
    PORT: '0',
    OPS_PORT: '0',
    DISPATCH_BACKOFF_BASE_MS: '20',
    DISPATCH_BACKOFF_MAX_MS: '200',
  });
  metrics = createMetrics();
  relay = await startRelay({ config, redisUrl: redis.url, log: createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), metrics, host: '127.0.0.1' });
  base = `http://127.0.0.1:${relay.port}`;
  onprem.setWebhook(`${base}/webhooks/cbot/sales`, { Authorization: SALES_BASIC });
  cloud.setWebhook(`${base}/webhooks/cbot/support-tr`);
  consumerRedis = new Redis(redis.url, { maxRetriesPerRequest: null });
  consumer = createConsumer({
    subscriber: 'default',
    connection: consumerRedis,
    prefix: config.queuePrefix,
    concurrency: 4,
    handler: async (e) => {
      events.push({ e, gotAt: Date.now() });
    },
  });
});

afterAll(async () => {
  await consumer?.close();
  consumerRedis?.disconnect();
  await relay?.close();
  await onprem?.close();
  await cloud?.close();
  await redis?.close();
});

beforeEach(async () => {
  // Each test starts with both channels active.
  for (const ch of ['sales', 'support-tr']) await admin('POST', `/v1/channels/${ch}/resume`);
});

let n = 0;
const uniqueTo = () => `90555${String(Date.now() % 1e5).padStart(5, '0')}${String(++n).padStart(3, '0')}`;
const text = (to: string, channel: string, body = `hi ${to}`) => ({ to, type: 'text', text: { body }, channel });

async function send(body: unknown): Promise<string> {
  const res = await fetch(`${base}/v1/messages`, { method: 'POST', headers: { authorization: `Bearer ${CRM}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

async function record(id: string): Promise<any> {
  return (await fetch(`${base}/v1/messages/${id}`, { headers: { authorization: `Bearer ${CRM}` } })).json();
}

async function admin(method: string, path: string, body?: string, key = ADMIN): Promise<{ status: number; json: any }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body }),
  });
  return { status: res.status, json: await res.json().catch(() => undefined) };
}

async function channel(id: string): Promise<any> {
  const { status, json } = await admin('GET', '/v1/channels');
  expect(status).toBe(200);
  return (json as any[]).find((c) => c.id === id);
}

const sentTo = (sim: CbotSim, to: string) => sim.received().filter((m) => m.to === to);
const eventsOf = (type: string, ch: string, since: number) => events.filter(({ e }) => e.type === type && e.channel === ch && Date.parse(e.occurredAt) >= since);

describe('131048 (spam rate limit) pauses only its channel for QUALITY_PAUSE_S', () => {
  it('sends nothing on that channel until the pause ends while the other channel keeps sending; GET /v1/channels and an event show it within 1 s', async () => {
    const started = Date.now();
    onprem.failNextCode(131048, 1);
    const to = uniqueTo();
    const first = await send(text(to, 'sales', 'first'));
    const paused = await waitFor(async () => {
      const c = await channel('sales');
      return c.state === 'paused' ? c : undefined;
    }, { what: 'sales to show paused' });
    expect(paused).toMatchObject({ id: 'sales', api: 'onprem', state: 'paused', reason: 'quality', code: 131048, rateLimit: 1000 });
    const until = Date.parse(paused.until);
    expect(until - started).toBeGreaterThan(QUALITY_PAUSE_S * 1000 - 500);
    expect(until - Date.now()).toBeLessThanOrEqual(QUALITY_PAUSE_S * 1000);
    // The event: within 1 s of the pause.
    const [ev] = await waitFor(() => {
      const found = eventsOf('channel.paused', 'sales', started);
      return found.length > 0 ? found : undefined;
    }, { what: 'channel.paused' });
    expect(ev!.e.data).toEqual({ channel: 'sales', reason: 'quality', code: 131048, until: paused.until });
    expect(ev!.gotAt - Date.parse(ev!.e.occurredAt)).toBeLessThan(1000);
    // More for sales wait; support-tr sends at once.
    const later = await Promise.all([send(text(to, 'sales', 'second')), send(text(uniqueTo(), 'sales'))]);
    const trTo = uniqueTo();
    await send(text(trTo, 'support-tr'));
    await waitFor(() => sentTo(cloud, trTo).length === 1, { what: 'support-tr to send during the sales pause' });
    expect(Date.parse(sentTo(cloud, trTo)[0]!.receivedAt)).toBeLessThan(until);
    expect((await channel('support-tr')).state).toBe('active');
    // After the pause: everything for sales goes, in order, none of it before `until`; nothing failed.
    await waitFor(async () => (await record(later[1]!)).status === 'sent', { timeoutMs: 10_000, what: 'sales to send after its pause' });
    await waitFor(async () => (await record(later[0]!)).status === 'sent', { what: 'the second message' });
    const sales = onprem.received().filter((m) => Date.parse(m.receivedAt) >= started);
    expect(sales.length).toBeGreaterThanOrEqual(3);
    for (const m of sales) expect(Date.parse(m.receivedAt)).toBeGreaterThanOrEqual(until - 5);
    expect(sentTo(onprem, to).map((m) => (m.body as any).text.body)).toEqual(['first', 'second']);
    const rec = await record(first);
    expect(rec.status).toBe('sent');
    expect(rec.attempts.map((a: any) => a.outcome)).toEqual(['throttled', 'sent']);
    expect((await channel('sales')).state).toBe('active');
  });
});

describe('368 / 131031 stop the channel until an operator resumes it', () => {
  it('keeps the refused message at its recipient’s head and sends it first after the resume', async () => {
    const started = Date.now();
    cloud.failNextCode(368, 1);
    const to = uniqueTo();
    const refused = await send(text(to, 'support-tr', 'one'));
    await waitFor(async () => (await channel('support-tr')).state === 'stopped', { what: 'support-tr to stop' });
    const next = [await send(text(to, 'support-tr', 'two')), await send(text(to, 'support-tr', 'three'))];
    const other = uniqueTo();
    await send(text(other, 'support-tr'));
    const stopped = await channel('support-tr');
    expect(stopped).toMatchObject({ state: 'stopped', reason: 'restricted', code: 368, until: null, backlog: 4 });
    const [ev] = await waitFor(() => {
      const found = eventsOf('channel.stopped', 'support-tr', started);
      return found.length > 0 ? found : undefined;
    }, { what: 'channel.stopped' });
    expect(ev!.e.data).toEqual({ channel: 'support-tr', reason: 'restricted', code: 368, until: null });
    expect(ev!.gotAt - Date.parse(ev!.e.occurredAt)).toBeLessThan(1000);
    // Sales still sends (the dispatcher is working), and support-tr has sent nothing since.
    const salesTo = uniqueTo();
    await send(text(salesTo, 'sales'));
    await waitFor(() => sentTo(onprem, salesTo).length === 1, { what: 'sales to keep sending' });
    expect(sentTo(cloud, to)).toEqual([]);
    expect(sentTo(cloud, other)).toEqual([]);
    expect((await record(refused)).status).not.toBe('failed');
    const metric = await metrics.registry.getSingleMetric('relay_channel_state')!.get();
    expect(metric.values).toContainEqual({ labels: { channel: 'support-tr', state: 'stopped' }, value: 1 });
    expect(metric.values).toContainEqual({ labels: { channel: 'sales', state: 'active' }, value: 1 });

    const resumed = await admin('POST', '/v1/channels/support-tr/resume');
    expect(resumed.status).toBe(200);
    expect(resumed.json).toMatchObject({ id: 'support-tr', state: 'active', reason: null, code: null, until: null });
    await waitFor(() => sentTo(cloud, to).length === 3 && sentTo(cloud, other).length === 1, { what: 'support-tr to send after the resume' });
    expect(sentTo(cloud, to).map((m) => (m.body as any).text.body)).toEqual(['one', 'two', 'three']);
    for (const id of [refused, ...next]) await waitFor(async () => (await record(id)).status === 'sent', { what: `${id} sent` });
    await waitFor(() => eventsOf('channel.resumed', 'support-tr', started).length === 1, { what: 'channel.resumed' });
  });

  it('stops on 131031 in a failed status callback after a 200, and sends the message again after the resume', async () => {
    const started = Date.now();
    onprem.failNextCode(131031, 1, { mode: 'callback' });
    const to = uniqueTo();
    const id = await send(text(to, 'sales', 'locked'));
    await waitFor(async () => (await channel('sales')).state === 'stopped', { what: 'sales to stop from the callback' });
    expect(await channel('sales')).toMatchObject({ reason: 'restricted', code: 131031 });
    await waitFor(() => eventsOf('channel.stopped', 'sales', started).length === 1, { what: 'channel.stopped' });
    // WhatsApp did not deliver it: it is queued again, not left failed.
    const rec = await waitFor(async () => {
      const r = await record(id);
      return r.status === 'queued' ? r : undefined;
    }, { what: 'the message to be queued again' });
    expect(rec.history.map((h: any) => h.status)).toEqual(expect.arrayContaining(['sent', 'failed', 'queued']));
    expect(sentTo(onprem, to)).toHaveLength(1);
    await admin('POST', '/v1/channels/sales/resume');
    await waitFor(() => sentTo(onprem, to).length === 2, { what: 'the message sent again' });
    await waitFor(async () => (await record(id)).status === 'sent', { what: 'sent again' });
  });
});

describe('131048 in a failed status callback', () => {
  it('pauses the channel for QUALITY_PAUSE_S and sends the message again after the pause', async () => {
    const started = Date.now();
    cloud.failNextCode(131048, 1, { mode: 'callback' });
    const to = uniqueTo();
    const id = await send(text(to, 'support-tr', 'quality'));
    const paused = await waitFor(async () => {
      const c = await channel('support-tr');
      return c.state === 'paused' ? c : undefined;
    }, { what: 'support-tr to pause from the callback' });
    expect(paused).toMatchObject({ reason: 'quality', code: 131048 });
    await waitFor(() => eventsOf('channel.paused', 'support-tr', started).length === 1, { what: 'channel.paused' });
    await waitFor(() => sentTo(cloud, to).length === 2, { timeoutMs: 10_000, what: 'the message sent again after the pause' });
    expect(Date.parse(sentTo(cloud, to)[1]!.receivedAt)).toBeGreaterThanOrEqual(Date.parse(paused.until) - 5);
    await waitFor(async () => (await record(id)).status === 'sent', { what: 'sent again' });
  });
});

describe('131056 and throughput codes', () => {
  it('holds only the recipient on 131056 (Retry-After wins) while its neighbour sends at once', async () => {
    onprem.failNextCode(131056, 1, { retryAfter: 1 });
    const held = uniqueTo();
    const free = uniqueTo();
    const a = await send(text(held, 'sales'));
    await waitFor(async () => (await record(a)).attempts.length === 1, { what: 'the pair-limited attempt' });
    await send(text(free, 'sales'));
    await waitFor(() => sentTo(onprem, free).length === 1, { what: 'the other recipient to send' });
    expect(sentTo(onprem, held)).toHaveLength(0);
    expect((await channel('sales')).state).toBe('active');
    await waitFor(async () => (await record(a)).status === 'sent', { what: 'the held recipient to send after its hold' });
    expect((await record(a)).attempts.map((x: any) => x.outcome)).toEqual(['throttled', 'sent']);
  });

  it('pauses the channel on 130429 for its Retry-After, reason throughput', async () => {
    cloud.failNextCode(130429, 1, { retryAfter: 2 });
    const id = await send(text(uniqueTo(), 'support-tr'));
    const paused = await waitFor(async () => {
      const c = await channel('support-tr');
      return c.state === 'paused' ? c : undefined;
    }, { what: 'a throughput pause' });
    expect(paused).toMatchObject({ reason: 'throughput', code: 130429 });
    expect(Date.parse(paused.until) - Date.now()).toBeGreaterThan(1000);
    await waitFor(async () => (await record(id)).status === 'sent', { timeoutMs: 10_000, what: 'sent after the pause' });
  });
});

describe('operator pause and resume, quality', () => {
  it('pauses for seconds or until resumed, and lists the quality a callback reported', async () => {
    const timed = await admin('POST', '/v1/channels/sales/pause', JSON.stringify({ seconds: 120 }));
    expect(timed.status).toBe(200);
    expect(timed.json).toMatchObject({ id: 'sales', state: 'paused', reason: 'operator', code: null });
    expect(Date.parse(timed.json.until) - Date.now()).toBeGreaterThan(110_000);
    const held = await admin('POST', '/v1/channels/sales/pause');
    expect(held.json).toMatchObject({ state: 'paused', reason: 'operator', until: null });
    expect((await admin('POST', '/v1/channels/sales/resume')).json).toMatchObject({ state: 'active' });
    await cloud.deliverCallback({
      object: 'whatsapp_business_account',
      entry: [{ id: '1', changes: [{ field: 'phone_number_quality_update', value: { display_phone_number: '908501234567', event: 'FLAGGED', current_limit: 'TIER_1K' } }] }],
    });
    await waitFor(async () => (await channel('support-tr')).quality === 'RED', { what: 'the quality to be stored' });
    expect((await channel('sales')).quality).toBe('UNKNOWN');
  });
});

describe('hostile input on /v1/channels', () => {
  it('wants an admin key on every route', async () => {
    for (const [method, path] of [['GET', '/v1/channels'], ['POST', '/v1/channels/sales/pause'], ['POST', '/v1/channels/sales/resume']] as const) {
      expect((await admin(method, path, undefined, '')).status).toBe(401);
      expect((await admin(method, path, undefined, CRM)).status).toBe(401);
      expect((await admin(method, path, undefined, 'wrong-key-12345678')).json.error.code).toBe('unauthorized');
    }
  });

  it('refuses bad bodies and unknown channels with clear errors, changing nothing', async () => {
    const cases: [string, number, string][] = [
      ['{', 400, 'invalid_json'],
      ['[]', 400, 'invalid_request'],
      ['{"seconds": -1}', 400, 'invalid_request'],
      ['{"seconds": 0}', 400, 'invalid_request'],
      ['{"seconds": 1.5}', 400, 'invalid_request'],
      ['{"seconds": "60"}', 400, 'invalid_request'],
      ['{"seconds": 99999999}', 400, 'invalid_request'],
      ['{"seconds": 60, "state": "stopped"}', 400, 'invalid_request'],
      ['{"seconds": 60, "seconds": 61}', 400, 'invalid_json'],
      [`{"seconds": 60, "pad": "${'x'.repeat(4096)}"}`, 413, 'payload_too_large'],
    ];
    for (const [body, status, code] of cases) {
      const res = await admin('POST', '/v1/channels/sales/pause', body);
      expect([body.slice(0, 40), res.status, res.json?.error?.code]).toEqual([body.slice(0, 40), status, code]);
    }
    expect((await channel('sales')).state).toBe('active');
    for (const path of ['/v1/channels/nope/pause', '/v1/channels/nope/resume', `/v1/channels/${'x'.repeat(300)}/pause`, '/v1/channels/%2e%2e/resume']) {
      const res = await admin('POST', path, '{}');
      expect(res.status).toBe(404);
      expect(res.json.error.code).toBe('not_found');
      expect(JSON.stringify(res.json)).not.toContain('x'.repeat(100));
    }
  });
});
