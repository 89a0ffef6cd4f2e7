import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CbotClient } from '@cbot-relay/cbot-client';
import { startCbotSim } from '@cbot-relay/cbot-sim';
import type { CbotSim } from '@cbot-relay/cbot-sim';
import { createLogger, createMetrics } from '@cbot-relay/observability';
import { Outbound, PartitionKeys } from '@cbot-relay/records';
import { startTestRedis, uniquePrefix } from '@cbot-relay/testing';
import type { TestRedis } from '@cbot-relay/testing';
import type { DispatchDeps } from './dispatch-message.js';
import { sendReceipt } from './dispatch-receipt.js';

let server: TestRedis;
let redis: Redis;
let sim: CbotSim;
let client: CbotClient;
beforeAll(async () => {
  server = await startTestRedis();
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
  sim = await startCbotSim({ api: 'cloud', apiKey: 'k', knobs: { statusCallbacks: false } });
  client = new CbotClient({ baseUrl: sim.url, api: 'cloud', apiKey: 'k', apiKeyHeader: 'Authorization', timeoutMs: 2_000 });
});
afterAll(async () => {
  await client.close();
  await sim.close();
  redis.disconnect();
  await server.close();
});

const CLAIM = { leaseMs: 60_000, maxAgeMs: 3_600_000, ratePerSecond: 1_000_000 };
const policy = { maxAttempts: 2, maxAgeMs: 3_600_000, baseMs: 10, maxMs: 100, throttleDefaultMs: 1_000 };

function deps(prefix: string): DispatchDeps {
  return { outbound: new Outbound({ redis, prefix, recordTtlS: 600 }), client, policy, log: createLogger({ level: 'silent' }), metrics: createMetrics(), now: Date.now };
}

async function leased(d: DispatchDeps, wamid: string, at = Date.now()) {
  const [r] = (await d.outbound.claim(1, at, CLAIM)).receipts;
  if (!r) throw new Error(`no receipt for ${wamid} was due`);
  return r;
}

const outcomes = async (d: DispatchDeps) => Object.fromEntries((await d.metrics.readReceipts.get()).values.map((v) => [v.labels.outcome, v.value]));

describe('sendReceipt', () => {
  it('marks the message read at CBOT and settles it; a 503 is retried with backoff until the attempts run out', async () => {
    const prefix = uniquePrefix();
    const d = deps(prefix);
    const ch = new PartitionKeys(prefix).channel('default');
    await d.outbound.acceptReceipt({ wamid: 'wamid.OK', channel: 'default', typing: true, caller: 'crm', nowMs: Date.now() });
    await sendReceipt(d, await leased(d, 'wamid.OK'));
    expect(sim.reads().filter((r) => r.wamid === 'wamid.OK')).toEqual([expect.objectContaining({ typing: true, api: 'cloud' })]);
    expect(await redis.hget(ch.receipt('wamid.OK'), 's')).toBe('sent');

    await d.outbound.acceptReceipt({ wamid: 'wamid.503', channel: 'default', typing: false, caller: 'crm', nowMs: Date.now() });
    sim.failNext(503, 2);
    await sendReceipt(d, await leased(d, 'wamid.503'));
    expect(await redis.hget(ch.receipt('wamid.503'), 's')).toBe('q');
    const due = Number(await redis.zscore(ch.receipts, 'wamid.503'));
    expect(due).toBeGreaterThan(Date.now() - 1000);
    // Past its backoff (10 ms base): the second 503 is the last attempt.
    await sendReceipt(d, await leased(d, 'wamid.503', due + 1));
    expect(await redis.hmget(ch.receipt('wamid.503'), 's', 'failures')).toEqual(['failed', '2']);
    expect(await redis.zcard(ch.receipts)).toBe(0);
    expect(sim.reads().some((r) => r.wamid === 'wamid.503')).toBe(false);
    expect(await outcomes(d)).toEqual({ sent: 1, retried: 1, failed: 1 });
  });

  it('drops a permanent refusal, and holds a throttled receipt without counting it, pausing the channel', async () => {
    const prefix = uniquePrefix();
    const d = deps(prefix);
    const ch = new PartitionKeys(prefix).channel('default');
    await d.outbound.acceptReceipt({ wamid: 'wamid.400', channel: 'default', typing: false, caller: 'crm', nowMs: Date.now() });
    sim.failNext(400, 1);
    await sendReceipt(d, await leased(d, 'wamid.400'));
    expect(await redis.hget(ch.receipt('wamid.400'), 's')).toBe('failed');

    await d.outbound.acceptReceipt({ wamid: 'wamid.429', channel: 'default', typing: false, caller: 'crm', nowMs: Date.now() });
    sim.failNext(429, 1);
    await sendReceipt(d, await leased(d, 'wamid.429'));
    expect(await redis.hmget(ch.receipt('wamid.429'), 's', 'failures')).toEqual(['q', '0']);
    expect(await redis.pttl(ch.gatePause)).toBeGreaterThan(0);
    expect(await outcomes(d)).toEqual({ failed: 1, throttled: 1 });
  });
});
