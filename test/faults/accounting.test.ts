import { describe, expect, it } from 'vitest';
import type { CbotSim, SimCallbackLog, SimCounters, SimReceivedMessage } from '@cbot-relay/cbot-sim';
import { countInbound, countOutbound, outboundFailures } from './accounting.js';
import type { Accepted } from './load-driver.js';

// The suite is only as good as its counting: these pin down what counts as lost, doubled and reordered.

const accepted = (recipient: number, seqs: number[]): Accepted[] =>
  seqs.map((seq) => ({ recipient, seq, text: `r${recipient}-${seq}`, relayId: `id-r${recipient}-${seq}`, acceptedAt: 0 }));

/**
 * What CBOT got, in order, one copy a second from T0 (copy i has wamid `w<i>`); `text@lost` marks a
 * copy whose answer the simulator saw go missing. `statusAt` maps a copy's index to the second at
 * which a status callback for it reached the relay (none: never).
 */
const T0 = Date.parse('2026-01-01T00:00:00Z');
const received = (texts: string[], statusAt: Record<number, number> = {}): Pick<CbotSim, 'received' | 'callbacks'> => ({
  received: () =>
    texts.map((t, i) => {
      const [body, fate] = t.split('@');
      return {
        wamid: `w${i}`, to: 'x', type: 'text', body: { text: { body } }, receivedAt: new Date(T0 + i * 1000).toISOString(),
        answer: fate === 'lost' ? 'client-gone' : 'written',
      } as unknown as SimReceivedMessage;
    }),
  callbacks: () =>
    Object.entries(statusAt).map(([i, s]) => ({
      id: `cb${i}`, kind: 'status', payload: { statuses: [{ id: `w${i}`, status: 'sent' }] }, createdAt: '', attempts: 1, lastStatus: 200,
      deliveries: [{ attempts: 1, status: 200, state: 'delivered', deliveredAt: new Date(T0 + s * 1000).toISOString() }],
    }) as SimCallbackLog),
});

const store = (resends: Record<string, number> = {}) => ({
  status: async () => 'read',
  resends: async (id: string) => resends[id] ?? 0,
  ambiguousResends: async () => Object.values(resends).reduce((a, b) => a + b, 0),
});

const firstWord = (lines: string[]) => lines.map((d) => d.split(' ')[0]);

describe('countOutbound', () => {
  it('counts a message CBOT never got as lost', async () => {
    const o = await countOutbound([accepted(0, [0, 1, 2])], received(['r0-0', 'r0-2']), store());
    expect(o.lost).toHaveLength(1);
    expect(o.lost[0]).toMatch(/^r0-1 /);
    expect(o.delivered).toBe(2);
    expect(outboundFailures(o)).toEqual([expect.stringMatching(/^1 accepted messages lost/)]);
  });

  it('passes a clean run', async () => {
    const o = await countOutbound([accepted(0, [0, 1]), accepted(1, [0])], received(['r0-0', 'r1-0', 'r0-1']), store());
    expect(outboundFailures(o)).toEqual([]);
  });

  it('fails a double send the relay did not count, even when CBOT lost the answer and no status came', async () => {
    const o = await countOutbound([accepted(0, [0])], received(['r0-0@lost', 'r0-0']), store());
    expect(firstWord(o.dupUnexplained)).toEqual(['r0-0']);
    expect(outboundFailures(o)).toHaveLength(1);
  });

  it('fails a counted resend sent after a status of the first copy reached the relay, whatever happened to its answer', async () => {
    // The answer was lost (a killed dispatcher, a client that hung up): the status callback at second 0.5
    // identified the message before the resend at second 1, so the resend is a real double message.
    for (const first of ['r0-0', 'r0-0@lost']) {
      const o = await countOutbound([accepted(0, [0])], received([first, 'r0-0'], { 0: 0.5 }), store({ 'id-r0-0': 1 }));
      expect(firstWord(o.dupUnexplained)).toEqual(['r0-0']);
      expect(o.dupUnexplained[0]).toMatch(/a status of w0 reached the relay 500 ms before the copy w1 was sent/);
      expect(outboundFailures(o)).toEqual([expect.stringMatching(/^1 unexplained duplicate sends, e\.g\. r0-0 ×2/)]);
    }
  });

  it('allows a counted resend in the residual window: no status of an earlier copy had reached the relay', async () => {
    // No status at all, or one that reached the relay only after the resend was sent.
    for (const statusAt of [{}, { 1: 2.5 }] as Record<number, number>[]) {
      const o = await countOutbound([accepted(0, [0, 1])], received(['r0-0', 'r0-1@lost', 'r0-1'], statusAt), store({ 'id-r0-1': 1 }));
      expect(firstWord(o.dupResidual)).toEqual(['r0-1']);
      expect(o.dupUnexplained).toEqual([]);
      expect(outboundFailures(o)).toEqual([]);
    }
  });

  it('allows one extra copy per counted resend, no more', async () => {
    const o = await countOutbound([accepted(0, [0])], received(['r0-0@lost', 'r0-0@lost', 'r0-0']), store({ 'id-r0-0': 1 }));
    expect(firstWord(o.dupUnexplained)).toEqual(['r0-0']);
  });

  it('counts adjacent inversions per recipient, a late resend included', async () => {
    const o = await countOutbound(
      [accepted(0, [0, 1, 2]), accepted(1, [0, 1])],
      received(['r0-0', 'r1-1', 'r0-2', 'r1-0', 'r0-1', 'r0-2']),
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
