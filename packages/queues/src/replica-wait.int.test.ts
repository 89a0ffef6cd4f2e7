import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRedis, LocalRedisCluster } from '@cbot-relay/testing';
import { ReplicaWait } from './replica-wait.js';

// A Redis with no replica: WAIT 1 never reaches 1, so each WAIT takes its whole timeout — which makes
// the sharing visible: 40 callers at once cost two WAITs (the one in flight, then the next), not 40.

let local: LocalRedis;
let redis: Redis;
beforeAll(async () => {
  local = await LocalRedis.start();
  redis = new Redis(local.url, { maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  redis?.disconnect();
  await local?.close();
});

const waitCalls = async (probe: Redis) => Number(/cmdstat_wait:calls=(\d+)/.exec(await probe.info('commandstats'))?.[1] ?? 0);

describe('ReplicaWait', () => {
  it('answers 0 replicas (not enough) when none has the write, and shares one WAIT among concurrent callers', async () => {
    const probe = new Redis(local.url);
    try {
      const before = await waitCalls(probe);
      const w = new ReplicaWait(redis, 1, 200);
      await redis.set('rw:k', '1');
      const first = w.enough();
      await redis.set('rw:k', '2');
      // Written after the first WAIT was sent: these join the next one.
      const rest = Array.from({ length: 39 }, () => w.enough());
      expect(await first).toBe(false);
      expect(await Promise.all(rest)).toEqual(rest.map(() => false));
      expect((await waitCalls(probe)) - before).toBe(2);
      // Nothing in flight any more: a new caller sends its own.
      expect(await w.acked()).toBe(0);
      expect((await waitCalls(probe)) - before).toBe(3);
    } finally {
      probe.disconnect();
    }
  });

  it('is enough with 0 replicas asked', async () => {
    expect(await new ReplicaWait(redis, 0, 100).enough()).toBe(true);
  });

  it('on Redis Cluster, sends the WAIT to every primary (the connection that wrote) and counts the fewest', async () => {
    await using cluster = await LocalRedisCluster.start(3);
    const client = new Cluster([{ host: '127.0.0.1', port: cluster.ports[0]! }], { redisOptions: { maxRetriesPerRequest: 1 } });
    const probes = cluster.ports.map((port) => new Redis(port, '127.0.0.1'));
    try {
      // Writes on every primary (keys in many slots).
      await Promise.all(Array.from({ length: 30 }, (_, i) => client.set(`rw:${i}`, '1')));
      const before = await Promise.all(probes.map(waitCalls));
      // No replicas: WAIT 0 is met at once; WAIT 1 reaches none.
      expect(await new ReplicaWait(client, 0, 100).enough()).toBe(true);
      expect(await new ReplicaWait(client, 1, 100).acked()).toBe(0);
      const after = await Promise.all(probes.map(waitCalls));
      expect(after.map((n, i) => n - before[i]!)).toEqual([2, 2, 2]);
    } finally {
      for (const p of probes) p.disconnect();
      client.disconnect();
    }
  });
});
