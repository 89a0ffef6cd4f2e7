import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsumer } from '@cbot-relay/consumer';
import { loadConfig } from '@cbot-relay/config';
import { createLogger, createMetrics } from '@cbot-relay/observability';
import { Partitions } from '@cbot-relay/records';
import type { RelayEvent } from '@cbot-relay/consumer';
import { LocalRedisCluster, waitFor } from '@cbot-relay/testing';
import { startRelay } from './relay.js';
import type { Harness } from './test-kit/harness.js';
import { ADMIN_KEY, BASIC, json, startHarness } from './test-kit/harness.js';

let cluster: LocalRedisCluster;
let h: Harness;
beforeAll(async () => {
  cluster = await LocalRedisCluster.start();
  const redis = { url: cluster.url, kind: 'local' as const, close: async () => undefined, [Symbol.asyncDispose]: async () => undefined };
  h = await startHarness({ redis, env: { REDIS_CLUSTER: '1', QUEUE_PREFIX: `{relay-${Date.now()}}` } });
});
afterAll(async () => {
  await h?.close();
  await cluster?.close();
});

describe('on a Redis Cluster (REDIS_CLUSTER=1, hash-tagged QUEUE_PREFIX)', () => {
  it('accepts, sends and tracks messages through to read', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await h.send({ to: `90555000${i}`, type: 'text', text: { body: `c${i}` } }, { 'idempotency-key': `cluster-${i}` });
      expect(res.status).toBe(202);
      ids.push((await json<{ id: string }>(res)).id);
    }
    for (const id of ids) await waitFor(async () => (await json<{ status: string }>(await h.get(id))).status === 'read');
    expect(h.sim.received()).toHaveLength(10);
  });

  it("keeps WhatsApp's rules in each recipient's partition: the window from an old inbound, and STOP", async () => {
    const view = async (to: string) => json<{ window: string; optedOut: boolean; lastInboundAt: string | null }>(
      await fetch(`${h.base}/v1/recipients/${to}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } }),
    );
    const recipients = ['905557200001', '905557200002', '905557200003', '905557200004'];
    for (const to of recipients) await h.sim.deliverInbound({ from: to, timestamp: Math.floor(Date.now() / 1000) - 25 * 3600 });
    for (const to of recipients) await waitFor(async () => (await view(to)).lastInboundAt !== null, { what: `${to}'s inbound` });
    for (const to of recipients) {
      expect((await view(to)).window).toBe('closed');
      expect((await h.send({ to, type: 'text', text: { body: 'late' } })).status).toBe(422);
    }
    await h.sim.deliverInbound({ from: recipients[0]!, text: 'STOP' });
    await waitFor(async () => (await view(recipients[0]!)).optedOut, { what: 'opted out' });
    const refused = await json<{ error: { code: string } }>(await h.send({ to: recipients[0], type: 'template', template: { name: 'hello_world', language: { code: 'en_US' } } }));
    expect(refused.error.code).toBe('recipient_opted_out');
    expect(h.sim.received().filter((m) => recipients.includes(m.to))).toEqual([]);
  });

  it('spreads the outbound side over every primary, each recipient still in acceptance order', async () => {
    const recipients = Array.from({ length: 30 }, (_, i) => `9055571${String(i).padStart(5, '0')}`);
    // A CBOT slow enough that many recipients are in flight at once.
    h.sim.setKnobs({ latencyMs: 30 });
    // Three messages per recipient, each recipient's accepted one after another, the recipients at once.
    await Promise.all(
      recipients.map(async (to) => {
        for (let n = 1; n <= 3; n++) expect((await h.send({ to, type: 'text', text: { body: `spread ${to} ${n}` } })).status).toBe(202);
      }),
    );
    const spread = () => h.sim.received().filter((m) => String((m.body['text'] as { body: string }).body).startsWith('spread '));
    await waitFor(() => spread().length >= 90, { timeoutMs: 30_000 });
    const got = new Map<string, string[]>();
    for (const m of spread()) got.set(m.to, [...(got.get(m.to) ?? []), String((m.body['text'] as { body: string }).body)]);
    for (const to of recipients) expect(got.get(to)).toEqual([1, 2, 3].map((n) => `spread ${to} ${n}`));
    h.sim.setKnobs({ latencyMs: 0 });

    // Unset OUTBOUND_PARTITIONS on a fresh cluster: 12 partitions, four on each primary.
    const conn = new Cluster([{ host: '127.0.0.1', port: cluster.ports[0]! }]);
    expect(await conn.get(`${h.prefix}:o:partitions`)).toBe('12');
    const slots = await conn.cluster('SLOTS');
    const perPrimary = new Map<number, number>();
    for (const base of new Partitions(h.prefix, 12).bases) {
      const slot = Number(await conn.cluster('KEYSLOT', base));
      const port = slots.find(([lo, hi]) => slot >= lo && slot <= hi)![2]![1];
      perPrimary.set(port, (perPrimary.get(port) ?? 0) + 1);
    }
    conn.disconnect();
    expect([...perPrimary.values()]).toEqual([4, 4, 4]);
    // And the records are there: every primary holds some of this test's messages.
    const tag = h.prefix.slice(1, -1);
    for (const port of cluster.ports) {
      const node = new Redis(port, '127.0.0.1');
      const records = await node.keys(`{${tag}:p*}:msg:*`);
      node.disconnect();
      expect(records.length, `records on the primary at ${port}`).toBeGreaterThan(0);
    }
  });

  it('refuses to start with another OUTBOUND_PARTITIONS than the cluster holds, naming both', async () => {
    const config = loadConfig({ REDIS_CLUSTER: '1', QUEUE_PREFIX: h.prefix, OUTBOUND_PARTITIONS: '3', RELAY_ROLES: 'ingress', PORT: '0', OPS_PORT: '0' });
    await expect(startRelay({ config, redisUrl: cluster.url, log: createLogger({ level: 'silent' }), metrics: createMetrics(), host: '127.0.0.1' })).rejects.toThrow(
      /^OUTBOUND_PARTITIONS=3, but this Redis holds outbound data in 12 partition\(s\)/,
    );
  });

  it('takes callbacks in and delivers their events to a queue subscriber', async () => {
    const conn = new Cluster([{ host: '127.0.0.1', port: cluster.ports[0]! }], { redisOptions: { maxRetriesPerRequest: null } });
    const seen: RelayEvent[] = [];
    const consumer = createConsumer({ subscriber: 'default', connection: conn, cluster: true, prefix: h.prefix, handler: async (e) => void seen.push(e) });
    const res = await fetch(`${h.base}/webhooks/cbot`, {
      method: 'POST',
      headers: { authorization: BASIC, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ id: 'cluster-in-1', from: '905550001', type: 'text', text: { body: 'hi' } }] }),
    });
    expect(res.status).toBe(200);
    await waitFor(() => seen.find((e) => (e.data as { id: string }).id === 'cluster-in-1'));
    await consumer.close();
    conn.disconnect();
  });

  it('shows the hash-tagged queues in the queue UI', async () => {
    const res = await fetch(`${h.base}/admin/queues/api/queues`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    expect(res.status).toBe(200);
    const { queues } = await json<{ queues: { name: string; counts: Record<string, number> }[] }>(res);
    expect(queues.map((q) => q.name).sort()).toEqual(['{events.default}', '{inbound}']);
    // Counts read through the cluster connection: the callback above went through inbound.
    expect(queues.every((q) => typeof q.counts.waiting === 'number')).toBe(true);
  });
});
