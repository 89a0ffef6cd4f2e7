import { describe, expect, it } from 'vitest';
import type { Pricing } from '@cbot-relay/messages';
import { uniquePrefix } from '@cbot-relay/testing';
import { DAY_MS, MessageStore, Outbound } from './index.js';
import { useTestRedis } from './test-support/redis.js';

const redis = await useTestRedis();

const body = JSON.stringify({ to: '905551112233', type: 'text', text: { body: 'hi' } });
const FAST = { leaseMs: 60_000, maxAgeMs: 3_600_000, ratePerSecond: 1_000_000 };
const UTILITY: Pricing = { billable: true, model: 'CBP', category: 'utility', type: 'regular' };
const SERVICE: Pricing = { billable: false, model: 'PMP', category: 'service', type: 'free_customer_service' };
const DAY1 = 20_000 * DAY_MS;

async function sentMessage(partitions: number, given: string, caller: string, channel = 'default', settle = true) {
  const prefix = uniquePrefix();
  const out = new Outbound({ redis, prefix, recordTtlS: 3600, partitions });
  const store = new MessageStore({ redis, prefix, recordTtlS: 3600, partitions });
  // With partitions a relay id carries its recipient's partition (Partitions.stamp), as the ingress makes them.
  const id = out.partitions.stamp(given, out.partitions.ofRecipient('905551112233'));
  await out.accept({ id, to: '905551112233', type: 'text', caller, priority: 'normal', channel, body, nowMs: DAY1 });
  const lease = (await out.claim(10, DAY1 + 1, FAST, channel, out.partitions.ofRecipient('905551112233'))).leases[0]!;
  const settleNow = () => out.settle(lease, DAY1 + 2, { kind: 'sent', wamid: `wamid.${id}` });
  if (settle) await settleNow();
  return { store, settleNow, id };
}

describe('pricing and usage', () => {
  it('puts pricing on the record once and counts the message once, however many priced statuses come', async () => {
    const { store } = await sentMessage(1, 'p1', 'crm');
    await expect(store.applyStatus('wamid.p1', 'sent', DAY1 + 10, undefined, undefined, 'default', undefined, UTILITY)).resolves.toEqual({ relayId: 'p1', applied: false, pricedFor: 'crm' });
    await expect(store.applyStatus('wamid.p1', 'delivered', DAY1 + 11, undefined, undefined, 'default', undefined, UTILITY)).resolves.toEqual({ relayId: 'p1', applied: true });
    await store.applyStatus('wamid.p1', 'delivered', DAY1 + 12, undefined, undefined, 'default', undefined, SERVICE);
    expect((await store.get('p1'))?.pricing).toEqual(UTILITY);
    expect(await store.usage({ sinceMs: DAY1, untilMs: DAY1 + DAY_MS })).toEqual([{ channel: 'default', caller: 'crm', category: 'utility', type: 'regular', count: 1 }]);
    // Whole UTC days: the day before has none, a range ending a millisecond into the day counts it.
    expect(await store.usage({ sinceMs: DAY1 - DAY_MS, untilMs: DAY1 })).toEqual([]);
    expect(await store.usage({ sinceMs: DAY1 - DAY_MS, untilMs: DAY1 + 1 })).toHaveLength(1);
  });

  it('keeps the pricing of a status that overtook the send and applies it at the settle, in each partition layout', async () => {
    for (const partitions of [1, 3]) {
      const { store, settleNow, id } = await sentMessage(partitions, `msg_0000000000000000000000q${partitions}00`, 'billing', 'sales', false);
      await expect(store.applyStatus(`wamid.${id}`, 'delivered', DAY1 + 5, undefined, undefined, 'sales', '905551112233', SERVICE)).resolves.toEqual({ applied: false });
      await settleNow();
      expect([partitions, (await store.get(id))?.pricing]).toEqual([partitions, SERVICE]);
      await store.applyStatus(`wamid.${id}`, 'read', DAY1 + 6, undefined, undefined, 'sales', '905551112233', SERVICE);
      expect(await store.usage({ sinceMs: DAY1, untilMs: DAY1 + DAY_MS, caller: 'billing' })).toEqual([
        { channel: 'sales', caller: 'billing', category: 'service', type: 'free_customer_service', count: 1 },
      ]);
      expect(await store.usage({ sinceMs: DAY1, untilMs: DAY1 + DAY_MS, channel: 'other' })).toEqual([]);
    }
  });
});
