import { describe, expect, it } from 'vitest';
import type { CbotSim, SimCallbackLog, SimCounters, SimReceivedMessage } from '@cbot-relay/cbot-sim';
import { countInbound, countOutbound, outboundFailures } from './accounting.js';
import type { Accepted } from './load-driver.js';

// The suite is only as good as its counting: these pin down what counts as lost, doubled and reordered.

const accepted = (recipient: number, seqs: number[]): Accepted[] =>
  seqs.map((seq) => ({ recipient, seq, text: `r${recipient}-${seq}`, relayId: `id-r${recipient}-${seq}`, acceptedAt: 0 }));

/**
 * What CBOT got, in order, one copy a second from T0; `text@lost` marks a copy whose answer the
 * simulator saw go missing.
 */
const T0 = Date.parse('2026-01-01T00:00:00Z');
const received = (...texts: string[]): Pick<CbotSim, 'received'> => ({
  received: () =>
    texts.map((t, i) => {
      const [body, fate] = t.split('@');
      return {
        wamid: `w${i}`, to: 'x', type: 'text', body: { text: { body } }, receivedAt: new Date(T0 + i * 1000).toISOString(),
        answer: fate === 'lost' ? 'client-gone' : 'written',
      } as unknown as SimReceivedMessage;
    }),
});

const store = (resends: Record<string, number> = {}) => ({
  status: async () => 'read',
  resends: async (id: string) => resends[id] ?? 0,
  ambiguousResends: async () => Object.values(resends).reduce((a, b) => a + b, 0),
});

const noKills = { dispatcherKills: [], inFlightMaxMs: 7_000 };
/** A dispatcher SIGKILL 20–50 ms after the copy received at second `i`. */
const killAfter = (i: number) => ({ dispatcherKills: [{ fromMs: T0 + i * 1000 + 20, toMs: T0 + i * 1000 + 50 }], inFlightMaxMs: 7_000 });
const kills = killAfter(0);
const firstWord = (lines: string[]) => lines.map((d) => d.split(' ')[0]);

describe('countOutbound', () => {
  it('counts a message CBOT never got as lost', async () => {
    const o = await countOutbound([accepted(0, [0, 1, 2])], received('r0-0', 'r0-2'), store(), noKills);
    expect(o.lost).toHaveLength(1);
    expect(o.lost[0]).toMatch(/^r0-1 /);
    expect(o.delivered).toBe(2);
    expect(outboundFailures(o)).toEqual([expect.stringMatching(/^1 accepted messages lost/)]);
  });

  it('passes a clean run', async () => {
    const o = await countOutbound([accepted(0, [0, 1]), accepted(1, [0])], received('r0-0', 'r1-0', 'r0-1'), store(), noKills);
    expect(outboundFailures(o)).toEqual([]);
  });

  it('fails a scenario without kills on a double send the relay counted but whose answer CBOT wrote', async () => {
    // The relay says "my answer was lost, I resent" but the simulator wrote both answers in full:
    // without a killed dispatcher nothing could have lost it on the way, so this is a real double send.
    const o = await countOutbound([accepted(0, [0, 1])], received('r0-0', 'r0-1', 'r0-1'), store({ 'id-r0-1': 1 }), noKills);
    expect(firstWord(o.dupUnexplained)).toEqual(['r0-1']);
    expect(o.dupAmbiguous).toEqual([]);
    expect(outboundFailures(o)).toEqual([expect.stringMatching(/^1 unexplained duplicate sends, e\.g\. r0-1 ×2/)]);
  });

  it('fails a double send the relay did not count, even when CBOT lost the answer and dispatchers were killed', async () => {
    const o = await countOutbound([accepted(0, [0])], received('r0-0@lost', 'r0-0'), store(), kills);
    expect(firstWord(o.dupUnexplained)).toEqual(['r0-0']);
    expect(outboundFailures(o)).toHaveLength(1);
  });

  it('allows one extra copy per counted resend, no more', async () => {
    // Three copies, both lost answers seen by CBOT, but the relay counted one resend: one copy too many.
    const o = await countOutbound([accepted(0, [0])], received('r0-0@lost', 'r0-0@lost', 'r0-0'), store({ 'id-r0-0': 1 }), kills);
    expect(firstWord(o.dupUnexplained)).toEqual(['r0-0']);
  });

  it('allows a counted resend after an answer CBOT saw lost, in any scenario', async () => {
    const o = await countOutbound([accepted(0, [0, 1])], received('r0-0', 'r0-1@lost', 'r0-1'), store({ 'id-r0-1': 1 }), noKills);
    expect(firstWord(o.dupAmbiguous)).toEqual(['r0-1']);
    expect(o.answersLost).toEqual({ dropped: 0, clientGone: 1 });
    expect(outboundFailures(o)).toEqual([]);
  });

  it('allows a counted resend CBOT could not see lost only when a dispatcher was killed while it was in flight', async () => {
    const twice = () => received('r0-0', 'r0-1', 'r0-1');
    const resent = store({ 'id-r0-1': 1 });
    const o = await countOutbound([accepted(0, [0, 1])], twice(), resent, killAfter(1));
    expect(firstWord(o.dupKillWindow)).toEqual(['r0-1']);
    expect(o.dupUnexplained).toEqual([]);
    expect(outboundFailures(o)).toEqual([]);
    // The same double send with the kill a minute later (or before the copy arrived) is not explained by it.
    for (const k of [killAfter(61), { dispatcherKills: [{ fromMs: T0, toMs: T0 + 500 }], inFlightMaxMs: 7_000 }]) {
      const late = await countOutbound([accepted(0, [0, 1])], twice(), resent, k);
      expect(firstWord(late.dupUnexplained)).toEqual(['r0-1']);
    }
  });

  it('counts adjacent inversions per recipient, a late resend included', async () => {
    const o = await countOutbound(
      [accepted(0, [0, 1, 2]), accepted(1, [0, 1])],
      received('r0-0', 'r1-1', 'r0-2', 'r1-0', 'r0-1', 'r0-2'),
      store(),
      noKills,
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
