import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@cbot-relay/testing';
import type { Harness } from './test-kit/harness.js';
import { OTHER_API_KEY, json, startHarness } from './test-kit/harness.js';

let h: Harness;
beforeAll(async () => {
  // A binding send rate: the campaign below takes ~8 s to leave.
  h = await startHarness({ env: { CBOT_RATE_LIMIT: '200' }, knobs: { statusCallbacks: false } });
});
afterAll(async () => {
  await h.close();
});

const text = (to: string, body: string) => ({ to, type: 'text', text: { body } });
const bodyOf = (m: { body: unknown }) => (m.body as { text: { body: string } }).text.body;

/** Sends `n` messages with `parallel` requests at a time; answers in order. */
async function sendMany(n: number, make: (i: number) => unknown, headers: Record<string, string> = {}, parallel = 32): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += parallel) {
    const batch = await Promise.all(Array.from({ length: Math.min(parallel, n - i) }, (_, j) => h.send(make(i + j), headers)));
    for (const res of batch) {
      expect(res.status).toBe(202);
      ids.push((await json<{ id: string }>(res)).id);
    }
  }
  return ids;
}

describe('fair, prioritised dispatch under a binding rate limit', () => {
  it('lets a second caller and a high-priority message through a campaign, and still completes the campaign in order', async () => {
    h.sim.reset();
    const CAMPAIGN = 1_600;
    const other = { authorization: `Bearer ${OTHER_API_KEY}` };
    const received = () => h.sim.received().map(bodyOf);

    // Measured in the order CBOT received messages, not in seconds: the scheduler's choice, not the
    // machine's speed. Sending is held (the pause a CBOT throttle sets) while the campaign and then
    // the newcomers are accepted, so they all compete from the same moment however long accepting takes.
    const redis = new Redis(h.redis.url);
    const pauseKey = `${h.prefix}:gate:pause`;
    const hold = async () => {
      await redis.set(pauseKey, '1', 'PX', 120_000);
      await waitFor(async () => (await h.metrics.inFlight.get()).values[0]?.value === 0, { what: 'sends in flight to finish' });
      return received().length;
    };
    const campaignSoFar = () => received().filter((b) => b.startsWith('camp-')).length;
    try {
      let mark = await hold();
      // The campaign: one caller, 400 recipients × 4 messages each, all queued at once.
      await sendMany(CAMPAIGN, (i) => text(`9055100${String(i % 400).padStart(4, '0')}`, `camp-${i}`));
      await sendMany(50, (i) => text(`9055200${String(i).padStart(4, '0')}`, `other-${i}`), other, 50);
      await redis.del(pauseKey);
      await waitFor(() => received().filter((b) => b.startsWith('other-')).length === 50, { timeoutMs: 60_000, intervalMs: 20 });
      const after = received().slice(mark);
      const first = after.findIndex((b) => b.startsWith('other-'));
      const last = after.findLastIndex((b) => b.startsWith('other-'));
      // Round robin between the two callers: one campaign message per message of the other caller
      // (a claim's messages go out in parallel, so allow one claim's worth, 20, of reordering).
      expect(first).toBeLessThan(20);
      expect(after.slice(first, last).filter((b) => b.startsWith('camp-')).length).toBeLessThanOrEqual(50 + 20);
      expect(campaignSoFar()).toBeLessThan(CAMPAIGN);

      mark = await hold();
      const res = await h.send(text('905530000001', 'urgent'), { ...other, 'x-relay-priority': 'high' });
      expect(res.status).toBe(202);
      await redis.del(pauseKey);
      await waitFor(() => received().includes('urgent'), { timeoutMs: 60_000, intervalMs: 10 });
      // Ahead of everything queued: in the first claim after the hold (sent in parallel, so its
      // messages reach CBOT in any order among themselves: a tenth of a second's worth, 20).
      expect(received().slice(mark).indexOf('urgent')).toBeLessThan(20);
      expect((await json<{ priority: string }>(await h.get((await json<{ id: string }>(res)).id, OTHER_API_KEY))).priority).toBe('high');
    } finally {
      redis.disconnect();
    }

    // Visible per caller and priority: the wait histogram counted the high message under its caller.
    const waits = (await h.metrics.queueWait.get()).values;
    expect(waits.find((v) => v.metricName === 'relay_outbound_wait_seconds_count' && v.labels.caller === 'other' && v.labels.priority === 'high')?.value).toBe(1);

    await waitFor(() => campaignSoFar() === CAMPAIGN, { timeoutMs: 120_000, intervalMs: 200 });
    const got = received().filter((b) => b.startsWith('camp-'));
    expect(new Set(got).size).toBe(CAMPAIGN);
    // Per recipient, acceptance order.
    for (let r = 0; r < 400; r += 37) {
      const to = `9055100${String(r).padStart(4, '0')}`;
      const seq = h.sim.received().filter((m) => m.to === to).map(bodyOf);
      expect(seq).toEqual([0, 1, 2, 3].map((k) => `camp-${r + k * 400}`));
    }
  });
});
