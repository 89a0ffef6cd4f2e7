import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { LocalRedis, startTestRedis } from './index.js';

describe('LocalRedis', () => {
  it('keeps acknowledged writes across kill -9 when AOF is on', async () => {
    await using redis = await LocalRedis.start({ aof: true });
    const c = new Redis(redis.url, { maxRetriesPerRequest: null });
    await c.set('k', 'v');
    await redis.restart();
    await expect(c.get('k')).resolves.toBe('v');
    c.disconnect();
  });
});

describe('startTestRedis', () => {
  it('gives a working Redis', async () => {
    await using redis = await startTestRedis();
    const c = new Redis(redis.url);
    await expect(c.ping()).resolves.toBe('PONG');
    c.disconnect();
  });
});
