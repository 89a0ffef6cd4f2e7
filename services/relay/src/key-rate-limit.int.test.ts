import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, uniquePrefix } from '@cbot-relay/testing';
import type { TestRedis } from '@cbot-relay/testing';
import type { Harness } from './test-kit/harness.js';
import { API_KEY, OTHER_API_KEY, json, startHarness } from './test-kit/harness.js';

// API_KEY_RATE_LIMIT is counted in Redis: two ingress instances on one Redis (and one QUEUE_PREFIX)
// share each key's budget, and a lone caller is held to it as well.

let redis: TestRedis;
beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await redis?.close();
});

async function pair(rate: string): Promise<[Harness, Harness]> {
  const env = { RELAY_ROLES: 'ingress', API_KEY_RATE_LIMIT: rate, QUEUE_PREFIX: uniquePrefix('rl') };
  return Promise.all([startHarness({ env, redis }), startHarness({ env, redis })]);
}

const send = (h: Harness, key = API_KEY) =>
  fetch(`${h.base}/v1/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ to: '905551110020', type: 'text', text: { body: 'rate' } }),
  });

describe('API_KEY_RATE_LIMIT across ingress instances', () => {
  it('admits one request per 10 s window in total from a flood spread over two instances', async () => {
    const [a, b] = await pair('0.1'); // one request per 10-second window
    try {
      const started = Date.now();
      const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => send(i % 2 === 0 ? a : b)));
      const elapsedMs = Date.now() - started;
      expect(elapsedMs).toBeLessThan(10_000); // all within one window, or the count below means nothing
      const statuses = answers.map((r) => r.status);
      expect(statuses.filter((s) => s === 202)).toHaveLength(1);
      expect(statuses.filter((s) => s === 429)).toHaveLength(59);
      const refused = answers.find((r) => r.status === 429)!;
      expect((await json<{ error: { code: string } }>(refused)).error.code).toBe('rate_limited');
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(10);
      expect(refused.headers.get('ratelimit-policy')).toBe('"per-api-key";q=1;w=10');
      expect(refused.headers.get('ratelimit')).toMatch(/^"per-api-key";r=0;t=(10|[1-9])$/);
      const admitted = answers.find((r) => r.status === 202)!;
      expect(admitted.headers.get('ratelimit')).toMatch(/^"per-api-key";r=0;t=\d+$/);
      // Another key has its own budget.
      expect((await send(b, OTHER_API_KEY)).status).toBe(202);
      await Promise.all(answers.map((r) => (r.bodyUsed ? undefined : r.arrayBuffer())));
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('holds the total to the rate per window, and shows the remaining budget on 202s', async () => {
    const [a, b] = await pair('20');
    try {
      const started = Date.now();
      const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => send(i % 2 === 0 ? a : b)));
      const elapsedS = (Date.now() - started) / 1000;
      const admitted = answers.filter((r) => r.status === 202);
      expect(admitted.length).toBeGreaterThanOrEqual(20);
      // Fixed 1 s windows from the first request: at most 20 in each window the flood touched.
      expect(admitted.length).toBeLessThanOrEqual(20 * (Math.floor(elapsedS) + 1));
      expect(answers.every((r) => r.status === 202 || r.status === 429)).toBe(true);
      const remaining = admitted.map((r) => Number(/r=(\d+)/.exec(r.headers.get('ratelimit') ?? '')?.[1]));
      expect(remaining.every((n) => n >= 0 && n < 20)).toBe(true);
      expect(admitted[0]!.headers.get('ratelimit-policy')).toBe('"per-api-key";q=20;w=1');
      await Promise.all(answers.map((r) => (r.bodyUsed ? undefined : r.arrayBuffer())));
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('limits a lone caller flooding one instance', async () => {
    const [a, b] = await pair('0.1');
    try {
      const first = await send(a);
      expect(first.status).toBe(202);
      for (let i = 0; i < 5; i++) expect((await send(a)).status).toBe(429);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('is off at 0: no refusals, no RateLimit fields', async () => {
    const [a, b] = await pair('0');
    try {
      const answers = await Promise.all(Array.from({ length: 30 }, () => send(a)));
      expect(answers.every((r) => r.status === 202)).toBe(true);
      expect(answers[0]!.headers.get('ratelimit')).toBeNull();
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
