import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

// Two numbers of one company: sales on an On-Premises CBOT, support-tr on a Cloud one.
const CRM = 'crm-key-123456';
const SALES_ONLY = 'sales-only-key-1';
let redis: TestRedis;
let onprem: CbotSim;
let cloud: CbotSim;
let relay: Relay;
let base: string;
let prefix: string;
let metrics: Metrics;
let consumerRedis: Redis;
let consumer: { close(): Promise<void> };
const events: RelayEvent[] = [];
const SALES_BASIC = `Basic ${Buffer.from('cbot:sales-hook-pass').toString('base64')}`;

beforeAll(async () => {
  redis = await startTestRedis();
  onprem = await startCbotSim({ apiKey: 'sales-cbot-key', apiKeyHeader: 'D360-API-KEY', knobs: { statusCallbacks: false } });
  cloud = await startCbotSim({ api: 'cloud', apiKey: 'tr-cbot-key', appSecret: 'tr-app-secret', knobs: { statusCallbacks: false } });
  const dir = mkdtempSync(join(tmpdir(), 'relay-channels-'));
  const file = join(dir, 'channels.json');
  writeFileSync(
    file,
    JSON.stringify({
      channels: [
        { id: 'sales', api: 'onprem', baseUrl: onprem.url, apiKeyEnv: 'SALES_CBOT_KEY', apiKeyHeader: 'D360-API-KEY', webhookUser: 'cbot', webhookPassEnv: 'SALES_HOOK_PASS', rateLimit: 1000, default: true },
        { id: 'support-tr', api: 'cloud', baseUrl: cloud.url, apiKeyEnv: 'TR_CBOT_KEY', appSecretEnv: 'TR_APP_SECRET', rateLimit: 1000 },
      ],
    }),
  );
  const config = loadConfig({
    CHANNELS_FILE: file,
    SALES_CBOT_KEY: 'sales-cbot-key',
    SALES_HOOK_PASS: 'sales-hook-pass',
    TR_CBOT_KEY: 'tr-cbot-key',
    TR_APP_SECRET: 'tr-app-secret',
    RELAY_API_KEYS: `crm:${CRM},sales-app:${SALES_ONLY}:sales`,
    QUEUE_PREFIX: uniquePrefix('relay'),
    PORT: '0',
    OPS_PORT: '0',
    DISPATCH_BACKOFF_BASE_MS: '20',
    DISPATCH_BACKOFF_MAX_MS: '200',
  });
  prefix = config.queuePrefix;
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
      events.push(e);
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

const text = (to: string, extra: Record<string, unknown> = {}) => ({ to, type: 'text', text: { body: `hi ${to}` }, ...extra });

async function send(body: unknown, key = CRM): Promise<{ status: number; json: any }> {
  const res = await fetch(`${base}/v1/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

async function record(id: string): Promise<any> {
  return (await fetch(`${base}/v1/messages/${id}`, { headers: { authorization: `Bearer ${CRM}` } })).json();
}

describe('channels: sending', () => {
  it('routes each send by channel to its base URL, path, key header and body shape', async () => {
    const a = await send(text('905550000001', { channel: 'sales' }));
    const b = await send(text('905550000002', { channel: 'support-tr' }));
    const c = await send(text('905550000003'));
    expect([a.status, b.status, c.status]).toEqual([202, 202, 202]);
    await waitFor(() => onprem.received().length === 2 && cloud.received().length === 1, { what: 'both CBOTs to receive' });

    const [sales, byDefault] = onprem.received();
    expect(sales!.body).toEqual(text('905550000001'));
    expect(byDefault!.body).toEqual(text('905550000003'));
    // On-Premises: the key as is in D360-API-KEY (the simulator only answers /v1/messages then).
    expect(onprem.counters().attempts).toBe(2);
    const [tr] = cloud.received();
    // Cloud: /messages, Bearer key, messaging_product and the relay id as biz_opaque_callback_data added, channel removed.
    expect(tr!.body).toEqual({ messaging_product: 'whatsapp', biz_opaque_callback_data: b.json.id, ...text('905550000002') });

    const recs = await waitFor(async () => {
      const all = await Promise.all([a, b, c].map((r) => record(r.json.id)));
      return all.every((r) => r.status === 'sent') && all;
    }, { what: 'records sent' });
    expect(recs.map((r: { channel: string }) => r.channel)).toEqual(['sales', 'support-tr', 'sales']);
    expect(recs[1].cbotMessageId).toBe(tr!.wamid);
  });

  it('refuses an unknown channel with 400 naming it, and a key limited to other channels with 403', async () => {
    const unknown = await send(text('905550000010', { channel: 'marketing' }));
    expect(unknown.status).toBe(400);
    expect(unknown.json.error).toMatchObject({ code: 'unknown_channel', message: expect.stringContaining('"marketing"') });
    const wrongType = await send(text('905550000010', { channel: 7 }));
    expect(wrongType.status).toBe(400);
    expect(wrongType.json.error.details).toEqual([{ path: 'channel', message: expect.any(String) }]);

    const limited = await send(text('905550000011', { channel: 'support-tr' }), SALES_ONLY);
    expect(limited.status).toBe(403);
    expect(limited.json.error).toMatchObject({ code: 'channel_forbidden', message: expect.stringContaining('support-tr') });
    expect((await send(text('905550000012', { channel: 'sales' }), SALES_ONLY)).status).toBe(202);
    expect((await send(text('905550000013'), SALES_ONLY)).status).toBe(202);
  });

  it('pauses only the throttled channel: a 130429 on the Cloud number does not stop the On-Premises one', async () => {
    // Every Cloud answer is now HTTP 400 with 130429 and Retry-After 600 s.
    cloud.setKnobs({ errorRate: 1, errorMix: { '429': 1 }, retryAfterSeconds: 600 });
    const before = cloud.counters().attempts;
    const held = await send(text('905550000020', { channel: 'support-tr' }));
    await waitFor(() => cloud.counters().attempts === before + 1, { what: 'the throttled attempt' });
    const more = await send(text('905550000021', { channel: 'support-tr' }));

    const salesBefore = onprem.received().length;
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await send(text(`90555000003${i}`, { channel: 'sales' }))).json.id);
    await waitFor(() => onprem.received().length === salesBefore + 5, { what: 'sales to keep sending' });
    for (const id of ids) expect((await record(id)).status).toBe('sent');

    // The Cloud channel stays paused: no second attempt, both messages still queued or held.
    expect(cloud.counters().attempts).toBe(before + 1);
    expect((await record(held.json.id)).attempts).toMatchObject([{ outcome: 'throttled', httpStatus: 400 }]);
    const answers = (await metrics.cbotAnswers.get()).values;
    expect(answers.find((v) => v.labels.channel === 'support-tr' && v.labels.outcome === 'throttled_sender' && v.labels.code === '130429')?.value).toBe(1);
    expect(answers.find((v) => v.labels.channel === 'sales' && v.labels.outcome === 'throttled_sender')).toBeUndefined();
    expect((await record(more.json.id)).status).toBe('queued');
    // Lift the pause for the tests below (the relay's key for channel support-tr's pause).
    cloud.setKnobs({ errorRate: 0 });
    const r = new Redis(redis.url);
    await r.del(`${prefix}:c:support-tr:gate:pause`);
    r.disconnect();
    await waitFor(async () => (await record(more.json.id)).status === 'sent', { what: 'the Cloud channel to resume' });
  });
});

describe('channels: receiving', () => {
  const hook = (path: string, body: string, headers: Record<string, string>) =>
    fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const sign = (body: string, secret: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  const statusOf = (id: string) => ({ statuses: [{ id, recipient_id: '905550000099', status: 'delivered', timestamp: '1717171800' }] });

  it('tags events with their channel and correlates statuses within the channel', async () => {
    onprem.setKnobs({ statusCallbacks: true, statusDelaysMs: [0, 5, 10] });
    cloud.setKnobs({ statusCallbacks: true, statusDelaysMs: [0, 5, 10] });
    const a = await send(text('905550000040', { channel: 'sales' }));
    const b = await send(text('905550000040', { channel: 'support-tr' }));
    const reads = await waitFor(async () => {
      const [ra, rb] = await Promise.all([record(a.json.id), record(b.json.id)]);
      return ra.status === 'read' && rb.status === 'read' && [ra, rb];
    }, { what: 'both messages read' });
    await waitFor(() => events.filter((e) => e.relayMessageId === a.json.id || e.relayMessageId === b.json.id).length === 6, { what: 'six status events' });
    expect(events.filter((e) => e.relayMessageId === a.json.id).every((e) => e.channel === 'sales')).toBe(true);
    expect(events.filter((e) => e.relayMessageId === b.json.id).every((e) => e.channel === 'support-tr')).toBe(true);
    expect(reads.map((r: { channel: string }) => r.channel)).toEqual(['sales', 'support-tr']);
    onprem.setKnobs({ statusCallbacks: false });
    cloud.setKnobs({ statusCallbacks: false });
  });

  it("never lets a callback on one channel move another channel's message", async () => {
    const m = await send(text('905550000050', { channel: 'sales' }));
    const sent = await waitFor(async () => {
      const r = await record(m.json.id);
      return r.status === 'sent' && r;
    });
    // The sales message's wamid, told to the support-tr endpoint with support-tr's own (valid) signature.
    const body = JSON.stringify(statusOf(sent.cbotMessageId));
    expect((await hook('/webhooks/cbot/support-tr', body, { 'x-hub-signature-256': sign(body, 'tr-app-secret') })).status).toBe(200);
    const ev = await waitFor(() => events.find((e) => e.type === 'message.status' && (e.data as { id: string }).id === sent.cbotMessageId && e.channel === 'support-tr'));
    expect(ev.relayMessageId).toBeUndefined();
    expect((await record(m.json.id)).status).toBe('sent');
  });

  it("refuses a channel's endpoint with another channel's credentials, and an unknown channel", async () => {
    const body = JSON.stringify(statusOf('wamid.nobody'));
    expect((await hook('/webhooks/cbot/support-tr', body, { authorization: SALES_BASIC })).status).toBe(401);
    expect((await hook('/webhooks/cbot/sales', body, { 'x-hub-signature-256': sign(body, 'tr-app-secret') })).status).toBe(401);
    expect((await hook('/webhooks/cbot/sales', body, { authorization: SALES_BASIC })).status).toBe(200);
    // The bare path is the default channel (sales): its credentials, not support-tr's.
    expect((await hook('/webhooks/cbot', body, { 'x-hub-signature-256': sign(body, 'tr-app-secret') })).status).toBe(401);
    expect((await hook('/webhooks/cbot', body, { authorization: SALES_BASIC })).status).toBe(200);
    const unknown = await hook('/webhooks/cbot/marketing', body, { authorization: SALES_BASIC });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });

  it('tags inbound messages with the channel they arrived on', async () => {
    const inbound = await cloud.deliverInbound({ kind: 'text', from: '905550000060', text: 'merhaba', format: 'cloud' } as never);
    await inbound.done;
    const ev = await waitFor(() => events.find((e) => e.type === 'message.received' && (e.data as { from?: string }).from === '905550000060'));
    expect(ev.channel).toBe('support-tr');
  });
});

describe("channels: WhatsApp's rules per channel", () => {
  const view = async (to: string, channel: string, key = CRM) =>
    fetch(`${base}/v1/recipients/${to}?channel=${channel}`, { headers: { authorization: `Bearer ${key}` } });
  const fallback = { type: 'template', template: { name: 'hello_world', language: { code: 'en_US' } } };

  it("sends the fallback on Cloud's 131047, keeps STOP to its channel, and holds the recipient view to the key's channels", async () => {
    const to = '905550000300';
    cloud.setKnobs({ outsideWindow: [to] });
    const m = await send(text(to, { channel: 'support-tr', fallback }));
    expect(m.status).toBe(202);
    const rec = await waitFor(async () => {
      const r = await record(m.json.id);
      if (r.status === 'failed') throw new Error(JSON.stringify(r));
      return r.status === 'sent' ? r : undefined;
    }, { what: 'the fallback sent' });
    expect(rec.sentBody).toBe('fallback');
    expect(cloud.received().filter((x) => x.to === to).map((x) => x.body)).toEqual([{ messaging_product: 'whatsapp', to, type: 'template', template: fallback.template, biz_opaque_callback_data: m.json.id }]);
    cloud.setKnobs({ outsideWindow: [] });

    await cloud.deliverInbound({ from: to, text: 'STOP', format: 'cloud' });
    await waitFor(async () => ((await (await view(to, 'support-tr')).json()) as { optedOut: boolean }).optedOut, { what: 'opted out on support-tr' });
    expect(await (await view(to, 'sales')).json()).toMatchObject({ channel: 'sales', optedOut: false, window: 'unknown' });
    expect((await send(text(to, { channel: 'support-tr' }))).json.error.code).toBe('recipient_opted_out');
    expect((await send(text(to, { channel: 'sales' }))).status).toBe(202);

    expect((await view(to, 'support-tr', SALES_ONLY)).status).toBe(403);
    expect((await view(to, 'sales', SALES_ONLY)).status).toBe(200);
  });
});

describe('channels: operations', () => {
  it('refuses to start without a channel that still has queued messages', async () => {
    cloud.setKnobs({ errorRate: 1, errorMix: { '429': 1 }, retryAfterSeconds: 600 });
    const held = await send(text('905550000070', { channel: 'support-tr' }));
    await waitFor(async () => (await record(held.json.id)).attempts.length === 1, { what: 'the throttled attempt' });
    // The same Redis and prefix with only the CBOT_* channel: support-tr would be stranded.
    const config = loadConfig({ CBOT_BASE_URL: onprem.url, CBOT_API_KEY: 'x', QUEUE_PREFIX: prefix, PORT: '0', OPS_PORT: '0', RELAY_ROLES: 'ingress' });
    await expect(startRelay({ config, redisUrl: redis.url, log: createLogger({ level: 'silent' }), metrics: createMetrics(), host: '127.0.0.1' })).rejects.toThrow(
      /^CHANNELS_FILE: channel "support-tr" \(\d+ queued\) still has queued messages/,
    );
  });
});
