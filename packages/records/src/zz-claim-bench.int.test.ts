import { it } from 'vitest';
import { uniquePrefix } from '@cbot-relay/testing';
import { Outbound } from './index.js';
import { useTestRedis } from './test-support/redis.js';

const redis = await useTestRedis();
const POLICY = { leaseMs: 60_000, maxAgeMs: 3_600_000, ratePerSecond: 1_000_000 };
const body = '{"to":"1","type":"text","text":{"body":"x"}}';

it('claim bench', async () => {
  const results: number[] = [];
  for (let round = 0; round < 5; round++) {
    const out = new Outbound({ redis, prefix: uniquePrefix(), recordTtlS: 600 });
    const N = 4000;
    await Promise.all(Array.from({ length: N }, (_, i) => out.accept({ id: `m${round}x${i}`, to: `9055${i}`, type: 'text', caller: `c${i % 7}`, priority: i % 3 === 0 ? 'high' : 'normal', nowMs: 1000, body })));
    const t0 = performance.now();
    let got = 0;
    while (got < N) {
      const c = await out.claim(100, 2000, POLICY);
      got += c.leases.length;
      await Promise.all(c.leases.map((l) => out.settle(l, 2001, { kind: 'sent', wamid: `w${l.id}` })));
    }
    results.push(performance.now() - t0);
  }
  console.log('CLAIM+SETTLE 4000 ms per round:', results.map((r) => r.toFixed(0)).join(' '), 'median', [...results].sort((a, b) => a - b)[2]!.toFixed(0));
}, 300_000);
