import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { uniquePrefix } from '@cbot-relay/testing';
import { Outbound } from './index.js';
import type { Priority } from './index.js';
import { useTestRedis } from './test-support/redis.js';

const redis = await useTestRedis();

const POLICY = { leaseMs: 60_000, maxAgeMs: 3_600_000, ratePerSecond: 1_000_000 };
const body = '{"to":"1","type":"text","text":{"body":"x"}}';
let n = 0;

/** Properties of the claim script's choice, checked against real Redis on generated workloads. */
describe('the scheduler', () => {
  it('serves strictly by priority and never starves bulk while capacity is left', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom<Priority>('high', 'normal', 'bulk'), { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 50 }), async (priorities, capacity) => {
        const out = new Outbound({ redis, prefix: uniquePrefix(), recordTtlS: 600 });
        const byId = new Map<string, Priority>();
        for (const priority of priorities) {
          const id = `p${++n}`;
          byId.set(id, priority);
          await out.accept({ id, to: `9055${n}`, type: 'text', caller: 'c', priority, nowMs: 1000, body });
        }
        const claimed = (await out.claim(capacity, 2000, POLICY)).leases.map((l) => byId.get(l.id)!);
        // As many as capacity allows, and the highest priorities first: bulk only in what is left.
        expect(claimed).toHaveLength(Math.min(capacity, priorities.length));
        const rank = { high: 0, normal: 1, bulk: 2 };
        expect(claimed).toEqual([...priorities].sort((a, b) => rank[a] - rank[b]).slice(0, claimed.length));
      }),
      { numRuns: 25 },
    );
  });

  it('gives callers with pending work shares within 10 % of their weights', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 2, maxLength: 4 }), fc.integer({ min: 1, max: 20 }), async (weights, batch) => {
        const out = new Outbound({ redis, prefix: uniquePrefix(), recordTtlS: 600 });
        const callers = weights.map((_, i) => `caller${i}`);
        await out.setWeights(Object.fromEntries(callers.map((c, i) => [c, weights[i]!])));
        const total = weights.reduce((a, b) => a + b, 0);
        const picks = total * 10;
        // Every caller has more pending than it can be given over the measured picks.
        const callerOf = new Map<string, string>();
        for (const caller of callers) {
          for (let i = 0; i < picks; i++) {
            const id = `w${++n}`;
            callerOf.set(id, caller);
            await out.accept({ id, to: `9056${n}`, type: 'text', caller, priority: 'normal', nowMs: 1000, body });
          }
        }
        const got = new Map<string, number>();
        for (let taken = 0; taken < picks; ) {
          const claim = await out.claim(Math.min(batch, picks - taken), 2000, POLICY);
          taken += claim.leases.length;
          for (const lease of claim.leases) got.set(callerOf.get(lease.id)!, (got.get(callerOf.get(lease.id)!) ?? 0) + 1);
        }
        for (const [i, caller] of callers.entries()) {
          const share = (got.get(caller) ?? 0) / picks;
          expect(Math.abs(share - weights[i]! / total)).toBeLessThanOrEqual(0.1 * (weights[i]! / total));
        }
      }),
      { numRuns: 10 },
    );
  });
});
