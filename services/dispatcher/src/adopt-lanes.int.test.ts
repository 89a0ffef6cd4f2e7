import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@cbot-relay/observability';
import { Outbound } from '@cbot-relay/records';
import { startTestRedis, uniquePrefix } from '@cbot-relay/testing';
import type { TestRedis } from '@cbot-relay/testing';
import { adoptLanes } from './adopt-lanes.js';

let server: TestRedis;
let redis: Redis;
beforeAll(async () => {
  server = await startTestRedis();
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
});
afterAll(async () => {
  redis.disconnect();
  await server.close();
});

// No reconcile window: an adopted job that was in flight is resent at once (the window has tests of its own).
const FAST = { leaseMs: 60_000, maxAgeMs: 3_600_000, ratePerSecond: 1_000_000, reconcileMs: 0 };

describe('adoptLanes (upgrade from the lane layout)', () => {
  it('moves queued lane jobs in front of newer messages, in lane order, and removes the lanes', async () => {
    const prefix = uniquePrefix();
    const outbound = new Outbound({ redis, prefix, recordTtlS: 3600 });
    const body = '{"to":"905551","type":"text","text":{"body":"x"}}';
    // What the lane layout left in Redis: records, bodies, the backlog index, and one job per message.
    const lane = new Queue('out.1', { connection: redis, prefix });
    await redis.set(`${prefix}:lanes`, '4');
    for (const [i, id] of ['old1', 'old2', 'old3'].entries()) {
      const inFlight = i === 0 ? { status: 'sending', inflight: '999' } : { status: 'queued' };
      await redis.hset(`${prefix}:msg:${id}`, { to: '+905551', type: 'text', caller: 'crm', createdAt: String(1000 + i), ...inFlight });
      await redis.set(`${prefix}:body:${id}`, body);
      await redis.zadd(`${prefix}:open`, 1000 + i, id);
      await lane.add('m', { id, to: '+905551' }, i === 2 ? { delay: 60_000 } : {});
    }
    await lane.close();
    // Accepted by the new version before any new dispatcher ran.
    await outbound.accept({ id: 'new1', to: '905551', type: 'text', caller: 'crm', priority: 'normal', nowMs: 5000, body });

    const moved = await adoptLanes({ redis, prefix, cluster: false, outbound, log: createLogger({ level: 'silent' }), now: () => 6000 });
    expect(moved).toBe(3);
    expect(await redis.exists(`${prefix}:lanes`)).toBe(0);
    expect(await redis.keys(`${prefix}:out.*`)).toEqual([]);
    // Again: nothing left to move, nothing moved twice.
    expect(await adoptLanes({ redis, prefix, cluster: false, outbound, log: createLogger({ level: 'silent' }), now: () => 6000 })).toBe(0);

    const order: string[] = [];
    for (let i = 0; i < 4; i++) {
      const [lease] = (await outbound.claim(10, 7000, FAST)).leases;
      order.push(lease!.id);
      // old1 was stamped in flight by a lane worker that is gone: its resend is counted.
      expect(lease!.ambiguous).toBe(lease!.id === 'old1');
      await outbound.settle(lease!, 7000, { kind: 'sent', wamid: `w.${lease!.id}` });
    }
    expect(order).toEqual(['old1', 'old2', 'old3', 'new1']);
  });
});
