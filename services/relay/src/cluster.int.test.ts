import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsumer } from '@cbot-relay/consumer';
import type { RelayEvent } from '@cbot-relay/consumer';
import { LocalRedisCluster, waitFor } from '@cbot-relay/testing';
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
