import { mkdtempSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
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

// Three numbers: sales (On-Premises, default), support-tr (Cloud) and broken (a CBOT that cannot list templates).
const CRM = 'crm-key-123456';
const SALES_ONLY = 'sales-only-key-1';
const ADMIN = 'admin-key-123456';
let redis: TestRedis;
let onprem: CbotSim;
let cloud: CbotSim;
let broken: CbotSim;
let relay: Relay;
let base: string;
let metrics: Metrics;
let prefix: string;
let consumerRedis: Redis;
const consumers: { close(): Promise<void> }[] = [];
const events: RelayEvent[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
  const quiet = { statusCallbacks: false };
  onprem = await startCbotSim({ apiKey: 'sales-cbot-key', apiKeyHeader: 'D360-API-KEY', knobs: quiet });
  cloud = await startCbotSim({ api: 'cloud', apiKey: 'tr-cbot-key', knobs: quiet });
  broken = await startCbotSim({ apiKey: 'broken-cbot-key', knobs: { ...quiet, templatesFail: true } });
  const file = join(mkdtempSync(join(tmpdir(), 'relay-templates-')), 'channels.json');
  writeFileSync(
    file,
    JSON.stringify({
      channels: [
        { id: 'sales', api: 'onprem', baseUrl: onprem.url, apiKey: 'sales-cbot-key', apiKeyHeader: 'D360-API-KEY', rateLimit: 1000, default: true },
        { id: 'support-tr', api: 'cloud', baseUrl: cloud.url, apiKey: 'tr-cbot-key', rateLimit: 1000 },
        { id: 'broken', api: 'onprem', baseUrl: broken.url, apiKey: 'broken-cbot-key', rateLimit: 1000 },
      ],
    }),
  );
  const config = loadConfig({
    CHANNELS_FILE: file,
    RELAY_API_KEYS: `crm:${CRM},sales-app:${SALES_ONLY}:sales`,
    RELAY_ADMIN_KEYS: `ops:${ADMIN}`,
    QUEUE_PREFIX: uniquePrefix('relay'),
    PORT: '0',
    OPS_PORT: '0',
    DISPATCH_BACKOFF_BASE_MS: '20',
    DISPATCH_BACKOFF_MAX_MS: '200',
  });
  metrics = createMetrics();
  prefix = config.queuePrefix;
  relay = await startRelay({
    config,
    redisUrl: redis.url,
    log: createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    metrics,
    host: '127.0.0.1',
    templatePollMs: 50,
  });
  base = `http://127.0.0.1:${relay.port}`;
  onprem.setWebhook(`${base}/webhooks/cbot/sales`);
  cloud.setWebhook(`${base}/webhooks/cbot/support-tr`);
  broken.setWebhook(`${base}/webhooks/cbot/broken`);
  consumerRedis = new Redis(redis.url, { maxRetriesPerRequest: null });
  consumers.push(
    createConsumer({ subscriber: 'default', connection: consumerRedis, prefix: config.queuePrefix, concurrency: 4, handler: async (e) => void events.push(e) }),
  );
});

afterAll(async () => {
  for (const c of consumers) await c.close();
  consumerRedis?.disconnect();
  await relay?.close();
  for (const sim of [onprem, cloud, broken]) await sim?.close();
  await redis?.close();
});

type Answer = { status: number; json: any };
const asJson = async (res: Response): Promise<Answer> => ({ status: res.status, json: await res.json() });
const get = async (path: string, key: string | null = CRM): Promise<Answer> =>
  asJson(await fetch(`${base}${path}`, { headers: key === null ? {} : { authorization: `Bearer ${key}` } }));
const post = async (path: string, body: unknown, key = CRM): Promise<Answer> =>
  asJson(await fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) }));
const control = async (sim: CbotSim, path: string, body: unknown): Promise<any> =>
  (await fetch(`${sim.url}_sim/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json();

const words = (n: number) => Array.from({ length: n }, (_, i) => ({ type: 'text', text: `w${i}` }));
/** order_update: header {{1}}, body {{1}} {{2}} {{3}}, URL button 0 {{1}}. */
const orderUpdate = (to: string, body = 3, extra: Record<string, unknown> = {}) => ({
  to,
  type: 'template',
  template: {
    name: 'order_update',
    language: { policy: 'deterministic', code: 'en_US' },
    components: [
      { type: 'header', parameters: words(1) },
      { type: 'body', parameters: words(body) },
      { type: 'button', sub_type: 'url', index: '0', parameters: words(1) },
    ],
  },
  ...extra,
});
const template = (to: string, name: string, code = 'en_US', components: unknown[] = [], extra: Record<string, unknown> = {}) => ({
  to,
  type: 'template',
  template: { name, language: { code }, components },
  ...extra,
});

describe('GET /v1/templates', () => {
  it("lists each channel's templates from its CBOT, either answer shape", async () => {
    const sales = await get('/v1/templates');
    expect(sales.status).toBe(200);
    expect(sales.json).toMatchObject({ channel: 'sales', fetchedAt: expect.any(String) });
    // On-Premises: waba_templates, status in lower case, as CBOT gives them.
    expect(sales.json.templates.map((t: any) => `${t.name}/${t.language}/${t.status}`)).toEqual([
      'order_update/en_US/approved',
      'otp_code/en_US/approved',
      'hello_world/en_US/approved',
      'order_shipped/tr/approved',
      'spring_sale/en_US/pending',
    ]);
    const tr = await get('/v1/templates?channel=support-tr');
    expect(tr.status).toBe(200);
    expect(tr.json.channel).toBe('support-tr');
    expect(tr.json.templates.find((t: any) => t.name === 'spring_sale')).toMatchObject({ status: 'PENDING', category: 'MARKETING' });
  });

  it('keeps the channel ACL of sends, and refuses bad queries and missing keys', async () => {
    expect(await get('/v1/templates?channel=support-tr', SALES_ONLY)).toMatchObject({ status: 403, json: { error: { code: 'channel_forbidden' } } });
    expect((await get('/v1/templates?channel=sales', SALES_ONLY)).status).toBe(200);
    expect(await get('/v1/templates?channel=nope')).toMatchObject({ status: 400, json: { error: { code: 'unknown_channel' } } });
    expect(await get('/v1/templates?channel=a%20b')).toMatchObject({ status: 400, json: { error: { code: 'invalid_query', details: [{ path: 'channel' }] } } });
    expect(await get('/v1/templates?name=x')).toMatchObject({ status: 400, json: { error: { code: 'invalid_query' } } });
    expect(await get('/v1/templates?channel=sales&channel=broken')).toMatchObject({ status: 400, json: { error: { code: 'invalid_query' } } });
    expect(await get('/v1/templates', null)).toMatchObject({ status: 401, json: { error: { code: 'unauthorized' } } });
    expect((await get('/v1/templates', 'not-a-key')).status).toBe(401);
    expect((await get('/v1/templates', ADMIN)).status).toBe(401);
  });

  it("answers 503 for a channel whose CBOT cannot list templates, and counts the failures", async () => {
    expect(await get('/v1/templates?channel=broken')).toMatchObject({ status: 503, json: { error: { code: 'templates_unavailable', message: expect.stringContaining('HTTP 500') } } });
    const failures = (await metrics.templateLoadFailures.get()).values.find((v) => v.labels.channel === 'broken');
    expect(failures?.value).toBeGreaterThanOrEqual(1);
  });
});

describe('template sends checked at accept', () => {
  beforeAll(async () => {
    // Listing takes the list into this process at once (the poll would within 50 ms).
    for (const ch of ['sales', 'support-tr']) expect((await get(`/v1/templates?channel=${ch}`)).status).toBe(200);
  });

  it('refuses unknown, unapproved and miscounted templates with 400 on both channels; nothing reaches CBOT', async () => {
    const before = { sales: onprem.received().length, tr: cloud.received().length };
    for (const channel of ['sales', 'support-tr']) {
      const on = { channel };
      const cases: [unknown, string, string][] = [
        [template('905550001001', 'no_such_template', 'en_US', [], on), 'unknown_template', 'template.name'],
        [template('905550001002', 'order_update', 'de', [], on), 'unknown_template', 'template.language.code'],
        [template('905550001003', 'spring_sale', 'en_US', [{ type: 'body', parameters: words(2) }], on), 'template_not_approved', 'template.name'],
        [orderUpdate('905550001004', 2, on), 'template_parameters', 'template.components.1.parameters'],
        [orderUpdate('905550001005', 4, on), 'template_parameters', 'template.components.1.parameters'],
      ];
      for (const [body, code, path] of cases) {
        const single = await post('/v1/messages', body);
        expect(single, `${channel} ${code}`).toMatchObject({ status: 400, json: { error: { code, details: [{ path }] } } });
      }
      const parameters = await post('/v1/messages', orderUpdate('905550001006', 2, on));
      expect(parameters.json.error.message).toBe("the template's body takes 3 parameters, the send gives 2");
      expect(parameters.json.error.details[0].message).toBe('expected 3 parameters (body)');

      // The same checks per batch item, beside items that pass.
      const batch = await post('/v1/messages/batch', { messages: [...cases.map(([b]) => b), orderUpdate('905550001007', 3, on), template('905550001008', 'hello_world', 'en_US', [], on)] });
      expect(batch.status).toBe(207);
      expect(batch.json.results.map((r: any) => r.status)).toEqual([400, 400, 400, 400, 400, 202, 202]);
      expect(batch.json.results.slice(0, 5).map((r: any) => r.error.code)).toEqual(cases.map(([, code]) => code));
    }
    // The express path (a compressed body, which the hot path leaves to express) checks the same way.
    const zipped = await fetch(`${base}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${CRM}`, 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(JSON.stringify(orderUpdate('905550001009', 1))),
    });
    expect(zipped.status).toBe(400);
    expect(((await zipped.json()) as any).error.code).toBe('template_parameters');
    // Only the batches' two good items per channel went out.
    await waitFor(() => onprem.received().length === before.sales + 2 && cloud.received().length === before.tr + 2, { what: 'the good items to reach CBOT' });
    const names = (sim: CbotSim, from: number) => sim.received().slice(from).map((m) => (m.body as any).template.name);
    expect(names(onprem, before.sales).sort()).toEqual(['hello_world', 'order_update']);
    expect(names(cloud, before.tr).sort()).toEqual(['hello_world', 'order_update']);
  });

  it('does not check sends on a channel whose template list cannot be loaded, and counts them', async () => {
    const unchecked = async () => (await metrics.templateUnchecked.get()).values.find((v) => v.labels.channel === 'broken')?.value ?? 0;
    const before = await unchecked();
    const res = await post('/v1/messages', template('905550001020', 'no_such_template', 'en_US', [], { channel: 'broken' }));
    expect(res.status).toBe(202);
    await waitFor(() => broken.received().some((m) => (m.body as any).template?.name === 'no_such_template'), { what: 'the unchecked send to reach CBOT' });
    expect(await unchecked()).toBe(before + 1);
  });

  it('reloads the list on a template.status event: an approved template is accepted from then on', async () => {
    const pending = await post('/v1/messages', template('905550001030', 'spring_sale', 'en_US', [{ type: 'body', parameters: words(2) }], { channel: 'support-tr' }));
    expect(pending.json.error?.code).toBe('template_not_approved');
    const emitted = await control(cloud, 'account-event', { kind: 'template_status', template: 'spring_sale', event: 'APPROVED', wait: true });
    expect(emitted).toMatchObject({ field: 'message_template_status_update' });
    const event = await waitFor(() => events.find((e) => e.type === 'template.status' && e.channel === 'support-tr'), { what: 'the template.status event' });
    expect(event).toMatchObject({ field: 'message_template_status_update', data: { event: 'APPROVED', message_template_name: 'spring_sale' } });
    await waitFor(
      async () => (await post('/v1/messages', template('905550001031', 'spring_sale', 'en_US', [{ type: 'body', parameters: words(2) }], { channel: 'support-tr' }))).status === 202,
      { what: 'the approved template to be accepted' },
    );
    // The other channel's list did not change: there spring_sale is still pending.
    expect((await post('/v1/messages', template('905550001032', 'spring_sale', 'en_US', [{ type: 'body', parameters: words(2) }]))).json.error?.code).toBe('template_not_approved');
  });
});

describe('typed events for account-level callbacks', () => {
  it('turns every Cloud field into its typed event with data unchanged and the field; a redelivery is no new event', async () => {
    // A subscriber for one type only gets only that type.
    const created = await post('/v1/subscribers', { name: 'quality', kind: 'queue', types: ['phone_number.quality'] }, ADMIN);
    expect(created.status).toBe(201);
    const quality: RelayEvent[] = [];
    consumers.push(createConsumer({ subscriber: 'quality', connection: consumerRedis, prefix, concurrency: 1, handler: async (e) => void quality.push(e) }));

    const kinds: [string, string, string][] = [
      ['template_status', 'template.status', 'message_template_status_update'],
      ['template_quality', 'template.quality', 'message_template_quality_update'],
      ['phone_number_quality', 'phone_number.quality', 'phone_number_quality_update'],
      ['account_update', 'account.update', 'account_update'],
      ['account_alerts', 'account.update', 'account_alerts'],
      ['account_review_update', 'account.update', 'account_review_update'],
    ];
    const extra: Record<string, object> = { template_status: { template: 'otp_code', event: 'PAUSED' } };
    for (const [kind, type, field] of kinds) {
      const sent = await control(cloud, 'account-event', { kind, ...extra[kind], wait: true });
      const value = sent.payload.entry[0].changes[0].value;
      const event = await waitFor(() => events.find((e) => e.type === type && (e as any).field === field && JSON.stringify(e.data) === JSON.stringify(value)), { what: `${field} → ${type}` });
      expect(event.channel).toBe('support-tr');
      expect(event.data).toEqual(value);
    }
    expect(events.filter((e) => e.type === 'unrecognized')).toEqual([]);

    // Redelivered: the same ids, deduplicated.
    const dupes = (await metrics.duplicateEvents.get()).values[0]?.value ?? 0;
    const last = cloud.callbacks().at(-1)!;
    await cloud.redeliver(last.id);
    await waitFor(async () => ((await metrics.duplicateEvents.get()).values[0]?.value ?? 0) > dupes, { what: 'the redelivery to be deduplicated' });
    expect(events.filter((e) => e.type === 'account.update' && (e as any).field === 'account_review_update')).toHaveLength(1);

    await waitFor(() => quality.length >= 1, { what: 'the quality subscriber' });
    // Only events after the subscriber was created; of one type.
    await control(cloud, 'account-event', { kind: 'account_alerts', wait: true });
    await control(cloud, 'account-event', { kind: 'phone_number_quality', event: 'UNFLAGGED', wait: true });
    await waitFor(() => quality.length >= 2, { what: 'the second quality event' });
    expect(quality.every((e) => e.type === 'phone_number.quality')).toBe(true);
  });
});

describe('pricing and GET /v1/usage', () => {
  beforeAll(() => {
    onprem.setKnobs({ statusCallbacks: true, statusDelaysMs: [0, 5, 10] });
    cloud.setKnobs({ statusCallbacks: true, statusDelaysMs: [0, 5, 10] });
  });

  const record = async (id: string) => (await get(`/v1/messages/${id}`)).json;
  const readAll = (ids: string[], key = CRM) =>
    waitFor(async () => {
      const recs = await Promise.all(ids.map(async (id) => (await get(`/v1/messages/${id}`, key)).json));
      return recs.every((r) => r.status === 'read' && r.pricing) && recs;
    }, { what: 'messages read and priced' });

  it('puts pricing on records, counts each message once per caller, and shows callers their own', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const a = await post('/v1/messages', orderUpdate('905550002001'));
    const b = await post('/v1/messages', orderUpdate('905550002002'));
    const c = await post('/v1/messages', { to: '905550002003', type: 'text', text: { body: 'hi' }, channel: 'support-tr' });
    const d = await post('/v1/messages', { to: '905550002004', type: 'text', text: { body: 'hi' } }, SALES_ONLY);
    expect([a, b, c, d].map((r) => r.status)).toEqual([202, 202, 202, 202]);
    const [ra, , rc] = await readAll([a, b, c].map((r) => r.json.id));
    await readAll([d.json.id], SALES_ONLY);
    // On-Premises (CBP, no type): a template's utility conversation is regular.
    expect(ra.pricing).toEqual({ billable: true, model: 'CBP', category: 'utility', type: 'regular' });
    // Cloud (PMP with type): a service reply is free customer service.
    expect(rc.pricing).toEqual({ billable: false, model: 'PMP', category: 'service', type: 'free_customer_service' });

    // sent and delivered both carry pricing; each message is counted once.
    const mine = await get(`/v1/usage?since=${today}T00:00:00Z`);
    expect(mine.status).toBe(200);
    expect(mine.json).toEqual({
      since: `${today}T00:00:00.000Z`,
      until: expect.any(String),
      items: [
        { caller: 'crm', channel: 'sales', category: 'utility', type: 'regular', count: 2 },
        { caller: 'crm', channel: 'support-tr', category: 'service', type: 'free_customer_service', count: 1 },
      ],
    });
    expect((await get('/v1/usage', SALES_ONLY)).json.items).toEqual([{ caller: 'sales-app', channel: 'sales', category: 'service', type: 'regular', count: 1 }]);
    expect((await get('/v1/usage?caller=crm&channel=support-tr')).json.items).toEqual([mine.json.items[1]]);

    const everyone = await get('/v1/usage', ADMIN);
    expect(everyone.json.items.map((i: any) => `${i.caller}/${i.channel}/${i.count}`)).toEqual(['crm/sales/2', 'crm/support-tr/1', 'sales-app/sales/1']);
    expect((await get('/v1/usage?caller=sales-app', ADMIN)).json.items).toHaveLength(1);
    expect((await get('/v1/usage?channel=support-tr', ADMIN)).json.items).toHaveLength(1);
    // A range before today has none.
    expect((await get('/v1/usage?since=2020-01-01T00:00:00Z&until=2020-01-31T00:00:00Z', ADMIN)).json).toEqual({
      since: '2020-01-01T00:00:00.000Z',
      until: '2020-01-31T00:00:00.000Z',
      items: [],
    });

    const priced = (await metrics.messagesPriced.get()).values;
    expect(priced.find((v) => v.labels.caller === 'crm' && v.labels.channel === 'sales')).toMatchObject({ value: 2, labels: { category: 'utility', type: 'regular' } });
    expect(priced.find((v) => v.labels.caller === 'crm' && v.labels.channel === 'support-tr')).toMatchObject({ value: 1, labels: { category: 'service', type: 'free_customer_service' } });

    // A priced status redelivered counts nothing more.
    const dupes = (await metrics.duplicateEvents.get()).values[0]?.value ?? 0;
    const sentCallback = onprem.callbacks().find((cb) => cb.kind === 'status' && JSON.stringify(cb.payload).includes(ra.cbotMessageId) && JSON.stringify(cb.payload).includes('"sent"'));
    expect(sentCallback).toBeDefined();
    await onprem.redeliver(sentCallback!.id, 2);
    await waitFor(async () => ((await metrics.duplicateEvents.get()).values[0]?.value ?? 0) >= dupes + 2, { what: 'the redeliveries to be processed' });
    expect((await get('/v1/usage')).json.items).toEqual(mine.json.items);
    expect((await record(a.json.id)).pricing).toEqual(ra.pricing);
  });

  it('refuses bad usage queries and missing keys', async () => {
    const bad = async (q: string, key = CRM) => {
      const r = await get(`/v1/usage${q}`, key);
      expect(r, q).toMatchObject({ status: 400, json: { error: { code: 'invalid_query' } } });
      return r.json.error;
    };
    await bad('?since=yesterday');
    await bad('?until=2026-13-45T00:00:00Z');
    await bad('?since=1733443200');
    expect((await bad('?since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z')).details).toEqual([{ path: 'until', message: 'must be after since' }]);
    expect((await bad('?since=2020-01-01T00:00:00Z&until=2026-01-01T00:00:00Z')).details[0].path).toBe('since');
    await bad('?caller=../etc');
    await bad('?limit=5');
    await bad('?since=2026-01-01T00:00:00Z&since=2026-01-02T00:00:00Z');
    expect((await bad('?caller=sales-app')).details).toEqual([{ path: 'caller', message: 'only an admin key may ask for another caller' }]);
    expect((await get('/v1/usage?caller=crm')).status).toBe(200);
    expect(await get('/v1/usage?channel=nope')).toMatchObject({ status: 400, json: { error: { code: 'unknown_channel' } } });
    expect(await get('/v1/usage?channel=support-tr', SALES_ONLY)).toMatchObject({ status: 403, json: { error: { code: 'channel_forbidden' } } });
    expect(await get('/v1/usage', null)).toMatchObject({ status: 401, json: { error: { code: 'unauthorized' } } });
    expect((await get('/v1/usage', 'nope-nope')).status).toBe(401);
  });
});
