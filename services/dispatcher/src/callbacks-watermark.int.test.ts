import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, uniquePrefix } from '@cbot-relay/testing';
import type { TestRedis } from '@cbot-relay/testing';
import { callbacksAppliedUpTo } from './callbacks-watermark.js';

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

describe('callbacksAppliedUpTo', () => {
  it('is now while the inbound queue holds nothing open, else the oldest open job’s creation time (waiting or delayed)', async () => {
    const prefix = uniquePrefix();
    const queue = new Queue('inbound', { connection: redis, prefix });
    try {
      const NOW = 9_000_000_000_000;
      const read = callbacksAppliedUpTo(redis, `${prefix}:inbound`, () => NOW);
      expect(await read()).toBe(NOW);
      await queue.add('cb', { raw: '{}' }, { timestamp: 2_000 });
      await queue.add('cb', { raw: '{}' }, { timestamp: 3_000 });
      expect(await read()).toBe(2_000);
      // A callback waiting for its retry counts too.
      await queue.add('cb', { raw: '{}' }, { timestamp: 1_000, delay: 60_000 });
      expect(await read()).toBe(1_000);
      await queue.obliterate({ force: true });
      expect(await read()).toBe(NOW);
    } finally {
      await queue.close();
    }
  });
});
