import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CbotClient } from '@cbot-relay/cbot-client';
import { startCbotSim } from '@cbot-relay/cbot-sim';
import type { CbotSim } from '@cbot-relay/cbot-sim';
import { loadConfig } from '@cbot-relay/config';
import { Dispatcher } from '@cbot-relay/dispatcher';
import type { DispatcherOptions } from '@cbot-relay/dispatcher';
import { createLogger, createMetrics } from '@cbot-relay/observability';
import type { Metrics } from '@cbot-relay/observability';
import { MessageStore, Outbound } from '@cbot-relay/records';
import type { Lease } from '@cbot-relay/records';
import { startTestRedis, uniquePrefix, waitFor } from '@cbot-relay/testing';
import type { TestRedis } from '@cbot-relay/testing';
import { startRelay } from './relay.js';
import type { Relay } from './relay.js';

// Reconciliation (docs/resilience.md, "No double message"): a dispatcher that dies after CBOT took a
// message leaves it in flight with an unknown outcome. Played here by claiming with a short lease,
// POSTing to the simulator ourselves and never recording the answer. The relay runs the ingress and
// the fanout (the simulator's status callbacks go through them); dispatchers are started per test.

const CRM = 'crm-key-123456';
const HOOK_BASIC = `Basic ${Buffer.from('cbot:hook-pass').toString('base64')}`;
let redis: TestRedis;
let conn: Redis;
let onprem: CbotSim;
let cloud: CbotSim;
let relay: Relay;
let base: string;
let prefix: string;
let relayMetrics: Metrics;
let outbound: Outbound;
let store: MessageStore;
let onpremClient: CbotClient;
let cloudClient: CbotClient;

beforeAll(async () => {
  redis = await startTestRedis();
  conn = new Redis(redis.url, { maxRetriesPerRequest: null });
  onprem = await startCbotSim({ apiKey: 'main-key', knobs: { statusDelaysMs: [5, 10, 15] } });
  cloud = await startCbotSim({ api: 'cloud', apiKey: 'cloud-key', appSecret: 'cloud-secret', knobs: { statusDelaysMs: [5, 10, 15] } });
  const file = join(mkdtempSync(join(tmpdir(), 'relay-reconcile-')), 'channels.json');
  writeFileSync(
    file,
    JSON.stringify({
      channels: [
        { id: 'main', api: 'onprem', baseUrl: onprem.url, apiKeyEnv: 'MAIN_KEY', webhookUser: 'cbot', webhookPassEnv: 'HOOK_PASS', rateLimit: 1000, default: true },
        { id: 'tr', api: 'cloud', baseUrl: cloud.url, apiKeyEnv: 'CLOUD_KEY', appSecretEnv: 'CLOUD_SECRET', rateLimit: 1000 },
      ],
    }),
  );
  const config = loadConfig({
    CHANNELS_FILE: file,
    MAIN_KEY: 'main-key',
    HOOK_PASS: 'hook-pass',
    CLOUD_KEY: 'cloud-key',
    CLOUD_SECRET: 'cloud-secret',
    RELAY_API_KEYS: `crm:${CRM}`,
    RELAY_ROLES: 'ingress,fanout',
    QUEUE_PREFIX: uniquePrefix('relay'),
    PORT: '0',
    OPS_PORT: '0',
  });
  prefix = config.queuePrefix;
  relayMetrics = createMetrics();
  relay = await startRelay({ config, redisUrl: redis.url, log: createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), metrics: relayMetrics, host: '127.0.0.1' });
  base = `http://127.0.0.1:${relay.port}`;
  onprem.setWebhook(`${base}/webhooks/cbot/main`, { Authorization: HOOK_BASIC });
  cloud.setWebhook(`${base}/webhooks/cbot/tr`);
  outbound = new Outbound({ redis: conn, prefix, recordTtlS: 3600 });
  store = new MessageStore({ redis: conn, prefix, recordTtlS: 3600 });
  onpremClient = new CbotClient({ baseUrl: onprem.url, apiKey: 'main-key', apiKeyHeader: 'Authorization', timeoutMs: 2_000 });
  cloudClient = new CbotClient({ baseUrl: cloud.url, apiKey: 'cloud-key', apiKeyHeader: 'Authorization', timeoutMs: 2_000, api: 'cloud' });
});

afterAll(async () => {
  await onpremClient?.close();
  await cloudClient?.close();
  await relay?.close();
  await onprem?.close();
  await cloud?.close();
  conn?.disconnect();
  await redis?.close();
});

type Rec = { id: string; status: string; cbotMessageId: string | null; attempts: { outcome: string; at: string; detail?: string }[]; history: { status: string }[] };

async function send(to: string, body: string, channel?: string): Promise<string> {
  const res = await fetch(`${base}/v1/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${CRM}`, 'content-type': 'application/json' },
    body: JSON.stringify({ to, type: 'text', text: { body }, ...(channel ? { channel } : {}) }),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

async function record(id: string): Promise<Rec> {
  return (await fetch(`${base}/v1/messages/${id}`, { headers: { authorization: `Bearer ${CRM}` } })).json() as Promise<Rec>;
}

/** A dispatcher dies after CBOT took the head message: claimed with a 200 ms lease, sent, its answer never recorded. */
async function lostAnswer(channel: string, client: CbotClient): Promise<{ lease: Lease; wamid: string }> {
  const { leases } = await outbound.claim(1, Date.now(), { leaseMs: 200, maxAgeMs: 3_600_000, ratePerSecond: 1_000_000 }, channel);
  const lease = leases[0]!;
  const outcome = await client.sendMessage(lease.body, { opaque: lease.id });
  if (outcome.kind !== 'sent') throw new Error(`the lost send was not taken: ${outcome.kind}`);
  return { lease, wamid: outcome.wamid };
}

function startDispatcher(channel: string, reconcileWindowMs: number, metrics: Metrics, extra: Partial<DispatcherOptions> = {}): Promise<Dispatcher> {
  return Dispatcher.start({
    ...extra,
    redis: conn,
    concurrency: 8,
    leaseMs: 8_000,
    cbotTimeoutMs: 1_000,
    ratePerSecond: 1_000_000,
    channels: [{ id: channel, ratePerSecond: 1_000_000 }],
    idlePollMs: 100,
    reconcileWindowMs,
    deps: {
      outbound,
      client: channel === 'tr' ? cloudClient : onpremClient,
      policy: { maxAttempts: 5, maxAgeMs: 3_600_000, baseMs: 10, maxMs: 100, throttleDefaultMs: 1_000 },
      log: createLogger({ level: 'silent' }),
      metrics,
      now: Date.now,
    },
  });
}

async function reconciled(metrics: Metrics, outcome: string): Promise<number> {
  let n = 0;
  for (const m of [metrics, relayMetrics]) n += (await m.reconciled.get()).values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
  return n;
}

const bodiesTo = (sim: CbotSim, to: string) => sim.received().filter((m) => m.to === to).map((m) => (m.body as { text: { body: string } }).text.body);

async function postStatus(to: string, wamid: string, status: string, timestampS = Math.floor(Date.now() / 1000)): Promise<void> {
  const res = await fetch(`${base}/webhooks/cbot/main`, {
    method: 'POST',
    headers: { authorization: HOOK_BASIC, 'content-type': 'application/json' },
    body: JSON.stringify({ statuses: [{ id: wamid, recipient_id: to, status, timestamp: String(timestampS) }] }),
  });
  expect(res.status).toBe(200);
}

describe('reconciling an attempt whose answer was lost', () => {
  it('records it sent, not sent again, when a status for its recipient with an unknown wamid comes (On-Premises); the next message waits behind it', async () => {
    const to = '905558880001';
    const m1 = await send(to, 'first');
    const m2 = await send(to, 'second');
    const { wamid } = await lostAnswer('main', onpremClient);
    const metrics = createMetrics();
    const before = await reconciled(metrics, 'matched_recipient');
    const d = await startDispatcher('main', 60_000, metrics);
    try {
      const rec = await waitFor(async () => {
        const r = await record(m1);
        return r.cbotMessageId !== null && r;
      }, { what: 'the first message reconciled' });
      expect(rec.cbotMessageId).toBe(wamid);
      expect(rec.attempts.map((a) => a.outcome)).toContain('reconciled');
      expect(rec.attempts.find((a) => a.outcome === 'reconciled')?.detail).toMatch(/recipient/);
      expect(rec.history.map((h) => h.status)).toContain('sent');
      await waitFor(async () => (await record(m2)).cbotMessageId !== null, { what: 'the second message sent' });
      expect(bodiesTo(onprem, to)).toEqual(['first', 'second']);
      expect(await store.resends(m1)).toBe(0);
      expect((await reconciled(metrics, 'matched_recipient')) - before).toBe(1);
      await waitFor(async () => (await record(m1)).status === 'read', { what: 'the later statuses applied as usual' });
    } finally {
      await d.close();
    }
  });

  it('records it sent by its relay id in biz_opaque_callback_data on a Cloud channel', async () => {
    const to = '905558880002';
    const m1 = await send(to, 'cloud first', 'tr');
    const { wamid, lease } = await lostAnswer('tr', cloudClient);
    expect(lease.id).toBe(m1);
    expect(cloud.received().find((m) => m.wamid === wamid)?.body).toMatchObject({ biz_opaque_callback_data: m1 });
    const metrics = createMetrics();
    const before = await reconciled(metrics, 'matched_opaque');
    const d = await startDispatcher('tr', 60_000, metrics);
    try {
      const rec = await waitFor(async () => {
        const r = await record(m1);
        return r.cbotMessageId !== null && r;
      }, { what: 'the message reconciled' });
      expect(rec.cbotMessageId).toBe(wamid);
      expect(rec.attempts.find((a) => a.outcome === 'reconciled')?.detail).toMatch(/biz_opaque_callback_data/);
      expect(bodiesTo(cloud, to)).toEqual(['cloud first']);
      expect((await reconciled(metrics, 'matched_opaque')) - before).toBe(1);
    } finally {
      await d.close();
    }
  });

  it('sends it again once, after the window, when no status comes — older unknown statuses do not count — and the next message waits', async () => {
    onprem.setKnobs({ statusCallbacks: false });
    const to = '905558880003';
    try {
      // A status for this recipient with a wamid the relay never sent, before the attempt began.
      await postStatus(to, 'wamid.OLDER-THAN-THE-ATTEMPT', 'delivered');
      await waitFor(async () => (await conn.hexists(`${prefix}:c:main:o:orph:${to}`, 'wamid.OLDER-THAN-THE-ATTEMPT')) === 1, { what: 'the older status kept' });
      const m1 = await send(to, 'first');
      const m2 = await send(to, 'second');
      await lostAnswer('main', onpremClient);
      // One that reaches the relay after the attempt began, but CBOT's own time says a minute before
      // (a redelivered callback of some earlier message): not this attempt's either.
      await postStatus(to, 'wamid.REDELIVERED-LATE', 'sent', Math.floor(Date.now() / 1000) - 60);
      await waitFor(async () => (await conn.hexists(`${prefix}:c:main:o:orph:${to}`, 'wamid.REDELIVERED-LATE')) === 1, { what: 'the late status kept' });
      const metrics = createMetrics();
      const windowMs = 1_500;
      const d = await startDispatcher('main', windowMs, metrics);
      try {
        await waitFor(async () => (await record(m2)).cbotMessageId !== null, { what: 'the second message sent' });
        expect(bodiesTo(onprem, to)).toEqual(['first', 'first', 'second']);
        const rec = await record(m1);
        expect(rec.attempts.map((a) => a.outcome)).toEqual(['unknown', 'sent']);
        const [waited, resent] = rec.attempts;
        expect(Date.parse(resent!.at) - Date.parse(waited!.at)).toBeGreaterThanOrEqual(windowMs);
        expect(await store.resends(m1)).toBe(1);
        expect(await reconciled(metrics, 'resent')).toBe(1);
      } finally {
        await d.close();
      }
    } finally {
      onprem.setKnobs({ statusCallbacks: true });
    }
  });

  it('does not send it again after the window while callbacks from within the window still wait to be applied', async () => {
    onprem.setKnobs({ statusCallbacks: false });
    const to = '905558880005';
    try {
      const m1 = await send(to, 'first');
      await lostAnswer('main', onpremClient);
      // The fanouts are a minute behind: a status that reached the ingress may still be queued.
      let appliedUpTo = Date.now() - 60_000;
      const d = await startDispatcher('main', 1_000, createMetrics(), { callbacksAppliedUpTo: async () => appliedUpTo, watermarkEveryMs: 50 });
      try {
        const rec = await waitFor(async () => {
          const r = await record(m1);
          return r.attempts.some((a) => a.outcome === 'unknown') && r;
        }, { what: 'the wait for a status' });
        const since = Date.parse(rec.attempts[0]!.at);
        // Past the window the claim looked again and held on: the recipient's hold moved beyond the window's end.
        await waitFor(async () => Number(await conn.zscore(`${prefix}:c:main:o:held`, to)) > since + 1_000, { what: 'the hold extended past the window' });
        expect(bodiesTo(onprem, to)).toEqual(['first']);
        // Caught up, and nothing identified it: sent again.
        appliedUpTo = Number.MAX_SAFE_INTEGER;
        await waitFor(() => bodiesTo(onprem, to).length === 2, { what: 'the resend once every callback is applied' });
        expect(await store.resends(m1)).toBe(1);
      } finally {
        await d.close();
      }
    } finally {
      onprem.setKnobs({ statusCallbacks: true });
    }
  });

  it('moves it on at once when a delivered comes first while its recipient waits', async () => {
    onprem.setKnobs({ statusCallbacks: false });
    const to = '905558880004';
    try {
      const m1 = await send(to, 'first');
      const m2 = await send(to, 'second');
      const { wamid } = await lostAnswer('main', onpremClient);
      const metrics = createMetrics();
      const before = await reconciled(metrics, 'matched_recipient');
      const d = await startDispatcher('main', 60_000, metrics);
      try {
        await waitFor(async () => (await record(m1)).attempts.some((a) => a.outcome === 'unknown'), { what: 'the wait for a status' });
        expect(bodiesTo(onprem, to)).toEqual(['first']);
        await postStatus(to, wamid, 'delivered');
        const rec = await waitFor(async () => {
          const r = await record(m1);
          return r.status === 'delivered' && r;
        }, { what: 'the message delivered', timeoutMs: 10_000 });
        expect(rec.cbotMessageId).toBe(wamid);
        expect(rec.history.map((h) => h.status)).toEqual(['queued', 'sending', 'sent', 'delivered']);
        await waitFor(async () => (await record(m2)).cbotMessageId !== null, { what: 'the second message sent', timeoutMs: 10_000 });
        expect(bodiesTo(onprem, to)).toEqual(['first', 'second']);
        // Counted once, by the fanout that applied the status.
        expect((await reconciled(metrics, 'matched_recipient')) - before).toBe(1);
      } finally {
        await d.close();
      }
    } finally {
      onprem.setKnobs({ statusCallbacks: true });
    }
  });
});
