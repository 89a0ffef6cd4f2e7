import { describe, expect, it } from 'vitest';
import type { CbotSim, SimCallbackLog, SimCounters, SimReceivedMessage } from '@cbot-relay/cbot-sim';
import { countInbound, countOutbound } from './accounting.js';
import type { Accepted } from './load-driver.js';

// The suite is only as good as its counting: these pin down what counts as lost, doubled and reordered.

const accepted = (recipient: number, seqs: number[]): Accepted[] =>
  seqs.map((seq) => ({ recipient, seq, text: `r${recipient}-${seq}`, relayId: `id-r${recipient}-${seq}`, acceptedAt: 0 }));

const received = (...texts: string[]): Pick<CbotSim, 'received'> => ({
  received: () => texts.map((t, i) => ({ wamid: `w${i}`, to: 'x', type: 'text', body: { text: { body: t } } }) as unknown as SimReceivedMessage),
});

const store = (resends: Record<string, number> = {}) => ({
  status: async () => 'read',
  resends: async (id: string) => resends[id] ?? 0,
  ambiguousResends: async () => Object.values(resends).reduce((a, b) => a + b, 0),
});

describe('countOutbound', () => {
  it('counts a message CBOT never got as lost', async () => {
    const o = await countOutbound([accepted(0, [0, 1, 2])], received('r0-0', 'r0-2'), store());
    expect(o.lost).toHaveLength(1);
    expect(o.lost[0]).toMatch(/^r0-1 /);
    expect(o.delivered).toBe(2);
  });

  it('splits second copies by whether the relay counted a resend', async () => {
    const o = await countOutbound([accepted(0, [0, 1])], received('r0-0', 'r0-0', 'r0-1', 'r0-1'), store({ 'id-r0-1': 1 }));
    expect(o.dupUnexplained.map((d) => d.split(' ')[0])).toEqual(['r0-0']);
    expect(o.dupAmbiguous.map((d) => d.split(' ')[0])).toEqual(['r0-1']);
    expect(o.outOfOrderPairs).toBe(0);
  });

  it('counts adjacent inversions per recipient, a late resend included', async () => {
    const o = await countOutbound(
      [accepted(0, [0, 1, 2]), accepted(1, [0, 1])],
      received('r0-0', 'r1-1', 'r0-2', 'r1-0', 'r0-1', 'r0-2'),
      store(),
    );
    expect(o.outOfOrderPairs).toBe(2); // r0: 0,2,1,2 → one; r1: 1,0 → one
    expect(o.outOfOrderRecipients).toBe(2);
  });
});

describe('countInbound', () => {
  const cb = (payload: unknown): SimCallbackLog => ({
    id: 'cb', kind: 'status', payload, createdAt: '', attempts: 1, lastStatus: 200,
    deliveries: [{ attempts: 1, status: 200, state: 'delivered' }],
  });
  const sim = {
    callbacks: () => [cb({ statuses: [{ id: 'w1', status: 'sent' }] }), cb({ messages: [{ id: 'm1' }] }), cb({ statuses: [{ id: 'w1', status: 'read' }] })],
    counters: () => ({ statusCallbacksSkipped: 0 }) as SimCounters,
  };

  it('finds lost events, real duplicates and same-id redeliveries per subscriber', () => {
    const queue = {
      keyOf: new Map([['e1', 'status:w1:sent'], ['e2', 'message:m1'], ['e9', 'message:m1']]),
      runs: new Map([['e1', 1], ['e2', 2], ['e9', 1]]),
      unparsable: 0,
    };
    const http = {
      keyOf: new Map([['e1', 'status:w1:sent'], ['e2', 'message:m1'], ['e3', 'status:w1:read']]),
      acks: new Map([['e1', 1], ['e2', 3], ['e3', 1]]),
      badSignatures: 0,
      unparsable: 0,
    };
    const i = countInbound(sim, queue, http);
    expect(i.expectedKeys).toBe(3);
    expect(i.queue.lost).toEqual(['status:w1:read']);
    expect(i.queue.dups).toHaveLength(2); // m1 under two ids, and e2 run twice
    expect(i.http.lost).toEqual([]);
    expect(i.http.dups).toEqual([]);
    expect(i.http.redeliveries).toBe(2);
  });
});
