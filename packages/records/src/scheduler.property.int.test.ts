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

  it('sends a recipient\'s messages in (due time, acceptance) order, scheduled, immediate and canceled mixed', async () => {
    type Step = { kind: 'accept'; dt: number; ahead: number } | { kind: 'claim'; dt: number } | { kind: 'cancel'; dt: number; pick: number };
    const step = fc.oneof(
      fc.record({ kind: fc.constant('accept' as const), dt: fc.integer({ min: 0, max: 8 }), ahead: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 12 })) }),
      fc.record({ kind: fc.constant('claim' as const), dt: fc.integer({ min: 0, max: 8 }) }),
      fc.record({ kind: fc.constant('cancel' as const), dt: fc.integer({ min: 0, max: 30 }), pick: fc.nat() }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 40 }), async (steps) => {
        const out = new Outbound({ redis, prefix: uniquePrefix(), recordTtlS: 600 });
        // The model: unsent messages as (due, acceptance order); a claim at t sends the least one due by t.
        const open: { id: string; due: number; seq: number }[] = [];
        const key = (m: { due: number; seq: number }) => [m.due, m.seq] as const;
        let t = 1000;
        let seq = 0;
        const claimAt = async (now: number) => {
          const due = open.filter((m) => m.due <= now).sort((a, b) => key(a)[0] - key(b)[0] || key(a)[1] - key(b)[1]);
          const leases = (await out.claim(10, now, POLICY)).leases;
          expect(leases.map((l) => l.id)).toEqual(due.slice(0, 1).map((m) => m.id));
          for (const l of leases) {
            await out.settle(l, now, { kind: 'sent', wamid: `w.${l.id}` });
            open.splice(open.findIndex((m) => m.id === l.id), 1);
          }
        };
        for (const s of steps) {
          t += s.dt;
          if (s.kind === 'accept') {
            const id = `o${++n}`;
            await out.accept({ id, to: '9057001', type: 'text', caller: 'c', priority: 'normal', nowMs: t, body, ...(s.ahead > 0 ? { sendAtMs: t + s.ahead } : {}) });
            open.push({ id, due: t + s.ahead, seq: ++seq });
          } else if (s.kind === 'claim') {
            await claimAt(t);
          } else if (open.length > 0) {
            const [m] = open.splice(s.pick % open.length, 1);
            expect(await out.cancel(m!.id, 'c', t)).toEqual({ kind: 'canceled' });
          }
        }
        // Everything left goes, in order, once it is all due.
        while (open.length > 0) await claimAt(t + 1000);
        expect((await out.claim(10, t + 2000, POLICY)).leases).toEqual([]);
        expect(await out.backlog()).toEqual({ count: 0, bytes: 0 });
      }),
      { numRuns: 100 },
    );
  });
});
