import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRedis, uniquePrefix } from '@cbot-relay/testing';
import { SendGate } from './index.js';

let server: LocalRedis;
let redis: Redis;
beforeAll(async () => {
  server = await LocalRedis.start();
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
});
afterAll(async () => {
  redis.disconnect();
  await server.close();
});

describe('SendGate', () => {
  it('lets a tenth of a second of burst through, then spaces sends at the rate', async () => {
    const gate = new SendGate({ redis, prefix: uniquePrefix(), ratePerSecond: 50 });
    const answers = [];
    for (let i = 0; i < 8; i++) answers.push(await gate.acquire());
    expect(answers.slice(0, 5).every((a) => a.kind === 'go')).toBe(true);
    const waiting = answers.slice(5).find((a) => a.kind === 'wait');
    expect(waiting).toMatchObject({ kind: 'wait', paused: false });
    expect((waiting as { ms: number }).ms).toBeLessThanOrEqual(20);
  });

  it('is shared by every gate on the same prefix and honours a pause', async () => {
    const prefix = uniquePrefix();
    const a = new SendGate({ redis, prefix, ratePerSecond: 1000 });
    const b = new SendGate({ redis, prefix, ratePerSecond: 1000 });
    await a.pause(5_000);
    const answer = await b.acquire();
    expect(answer).toMatchObject({ kind: 'wait', paused: true });
    expect((answer as { ms: number }).ms).toBeGreaterThan(4_000);
    await a.pause(10); // a shorter pause never shortens a longer one
    expect(((await b.acquire()) as { ms: number }).ms).toBeGreaterThan(4_000);
  });

  it('survives a Redis restart that empties the script cache', async () => {
    const gate = new SendGate({ redis, prefix: uniquePrefix(), ratePerSecond: 1000 });
    expect((await gate.acquire()).kind).toBe('go');
    await redis.script('FLUSH');
    expect((await gate.acquire()).kind).toBe('go');
  });
});
