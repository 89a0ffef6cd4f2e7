import type { CbotSim, SimReceivedMessage } from '@cbot-relay/cbot-sim';
import type { MessageStore } from '@cbot-relay/records';
import { callbackKeys } from './event-key.js';
import type { Accepted } from './load-driver.js';
import type { PushReceiver } from './push-receiver.js';
import type { QueueSubscriber } from './queue-subscriber.js';

export interface OutboundCounts {
  accepted: number;
  /** Accepted messages CBOT received at least once. */
  delivered: number;
  lost: string[];
  /** Extra copies nothing explains (see countOutbound): must be 0. */
  dupUnexplained: string[];
  /** Extra copies each of which follows a copy whose answer the simulator knows was lost, and the relay counted. */
  dupAmbiguous: string[];
  /**
   * Extra copies the relay counted as resends but the simulator wrote every answer for, each matched
   * by a copy received while a dispatcher SIGKILL could still cut its answer off (it died after the
   * answer was written and before it was recorded): allowed, reported.
   */
  dupKillWindow: string[];
  /** Adjacent pairs, per recipient, in which CBOT got a later-accepted message before an earlier one. */
  outOfOrderPairs: number;
  outOfOrderRecipients: number;
  /** Sent although never answered 202 (the caller gave up): allowed, reported. */
  extra: number;
  /** The relay's own count of resends after a possibly lost answer. */
  relayAmbiguousResends: number;
  /** The simulator's count of accepted messages whose answer never reached the client. */
  answersLost: { dropped: number; clientGone: number };
  /**
   * Final record status of accepted messages, by status. The simulator calls back sent, delivered and
   * read for every message, and statuses only move forward, so every record must end `read`.
   */
  finalStatus: Record<string, number>;
}

export interface OutboundScenario {
  /** Dispatcher SIGKILLs: from when the signal went to when the process was gone (epoch ms). */
  dispatcherKills: readonly { fromMs: number; toMs: number }[];
  /**
   * How long before a kill a copy CBOT received can still have had its answer unrecorded: the
   * dispatchers' CBOT_TIMEOUT_MS (the longest a send waits for its answer) plus time to record it.
   */
  inFlightMaxMs: number;
}

const TEXT = /^r(\d+)-(\d+)$/;
const textOf = (body: Record<string, unknown>) => (body.text as { body?: unknown } | undefined)?.body;
const answerLost = (m: Pick<SimReceivedMessage, 'answer'>) => m.answer === 'dropped' || m.answer === 'client-gone';

/**
 * Compares what the callers got 202 for with what CBOT (the simulator) received, in order.
 *
 * A message CBOT got n times has n − 1 extra copies. The contract allows a second send only after
 * CBOT's answer to the first was lost, and the relay must count it, so the extra copies must be
 * (a) at most the resends the relay counted for that message, and (b) at most the copies whose answer
 * the simulator itself saw go missing (dropped on purpose, or the client hung up before it was
 * written). (b) is the simulator's own evidence, independent of the relay. Only a killed dispatcher
 * can lose an answer unseen (written, then its reader died), so (b) also accepts a copy CBOT received
 * within `inFlightMaxMs` before a dispatcher kill ended — in a scenario without kills, none.
 */
export async function countOutbound(
  accepted: Accepted[][],
  sim: Pick<CbotSim, 'received'>,
  store: Pick<MessageStore, 'status' | 'resends' | 'ambiguousResends'>,
  scenario: OutboundScenario,
): Promise<OutboundCounts> {
  const times = new Map<string, number>();
  const lostAnswers = new Map<string, number>();
  const killWindowCopies = new Map<string, number>();
  const inKillWindow = (receivedAtMs: number) =>
    scenario.dispatcherKills.some((k) => receivedAtMs >= k.fromMs - scenario.inFlightMaxMs && receivedAtMs <= k.toMs);
  const seqsOf = new Map<number, number[]>();
  const answersLost = { dropped: 0, clientGone: 0 };
  for (const m of sim.received()) {
    if (m.answer === 'dropped') answersLost.dropped++;
    if (m.answer === 'client-gone') answersLost.clientGone++;
    const text = textOf(m.body);
    const match = typeof text === 'string' ? TEXT.exec(text) : null;
    if (!match || typeof text !== 'string') continue;
    times.set(text, (times.get(text) ?? 0) + 1);
    if (answerLost(m)) lostAnswers.set(text, (lostAnswers.get(text) ?? 0) + 1);
    else if (inKillWindow(Date.parse(m.receivedAt))) killWindowCopies.set(text, (killWindowCopies.get(text) ?? 0) + 1);
    const r = Number(match[1]);
    const seqs = seqsOf.get(r) ?? [];
    seqs.push(Number(match[2]));
    seqsOf.set(r, seqs);
  }
  const all = accepted.flat();
  const known = new Set(all.map((a) => a.text));
  const out: OutboundCounts = {
    accepted: all.length, delivered: 0, lost: [], dupUnexplained: [], dupAmbiguous: [], dupKillWindow: [],
    outOfOrderPairs: 0, outOfOrderRecipients: 0,
    extra: [...times.keys()].filter((t) => !known.has(t)).length,
    relayAmbiguousResends: await store.ambiguousResends(),
    answersLost,
    finalStatus: {},
  };
  for (const a of all) {
    const status = (await store.status(a.relayId)) ?? 'no record';
    out.finalStatus[status] = (out.finalStatus[status] ?? 0) + 1;
    const n = times.get(a.text) ?? 0;
    if (n === 0) out.lost.push(`${a.text} (${a.relayId}: ${status})`);
    else out.delivered++;
    if (n > 1) {
      const extra = n - 1;
      const resends = await store.resends(a.relayId);
      const simLost = lostAnswers.get(a.text) ?? 0;
      const nearKill = killWindowCopies.get(a.text) ?? 0;
      const line = `${a.text} ×${n} (${a.relayId}, relay resends ${resends}, answers lost at CBOT ${simLost}, copies just before a kill ${nearKill})`;
      if (extra > resends) out.dupUnexplained.push(`${line}: sent again without a counted resend`);
      else if (extra <= simLost) out.dupAmbiguous.push(line);
      else if (extra <= simLost + nearKill) out.dupKillWindow.push(line);
      else out.dupUnexplained.push(`${line}: CBOT wrote the answers and no dispatcher was killed while they were in flight`);
    }
  }
  // Acceptance order per recipient is seq order (each waits for the previous 202). Every copy counts:
  // a resend of message k after k+1 reached CBOT is out of order for the customer too.
  for (const seqs of seqsOf.values()) {
    let pairs = 0;
    for (let i = 1; i < seqs.length; i++) if (seqs[i]! < seqs[i - 1]!) pairs++;
    out.outOfOrderPairs += pairs;
    if (pairs > 0) out.outOfOrderRecipients++;
  }
  return out;
}

/** The outbound bars of the issue: 0 lost, 0 unexplained duplicates, 0 out of order, every record read. */
export function outboundFailures(o: OutboundCounts): string[] {
  const failures: string[] = [];
  const bar = (ok: boolean, why: string) => ok || failures.push(why);
  bar(o.accepted > 0, 'no message was accepted: the scenario exercised nothing');
  bar(o.lost.length === 0, `${o.lost.length} accepted messages lost, e.g. ${o.lost.slice(0, 5).join(', ')}`);
  bar(o.dupUnexplained.length === 0, `${o.dupUnexplained.length} unexplained duplicate sends, e.g. ${o.dupUnexplained.slice(0, 5).join(', ')}`);
  bar(o.outOfOrderPairs === 0, `${o.outOfOrderPairs} out-of-order pairs over ${o.outOfOrderRecipients} recipients`);
  const notRead = o.accepted - (o.finalStatus.read ?? 0);
  bar(notRead === 0, `${notRead} message records did not end 'read' although CBOT reported it: ${JSON.stringify(o.finalStatus)}`);
  return failures;
}

export interface ChannelCounts {
  /** Expected event keys never delivered on this channel. */
  lost: string[];
  /** Keys delivered under more than one event id, or one event id run as two jobs. */
  dups: string[];
  /** HTTP only: extra 200-acknowledged deliveries of one webhook-id (at-least-once push). */
  redeliveries: number;
  delivered: number;
  /** Delivered keys that no callback explains. */
  unexpected: number;
}

export interface InboundCounts {
  /** Distinct events the simulator's callbacks should produce (inbound messages and statuses). */
  expectedKeys: number;
  queue: ChannelCounts;
  http: ChannelCounts;
  badSignatures: number;
  unparsable: number;
  /** Callbacks the simulator was still retrying (or gave up on) when counting. */
  callbacksUndelivered: number;
  statusCallbacksSkipped: number;
}

/** The keys every callback the simulator sent (or is still retrying) should turn into. */
export function expectedEventKeys(sim: Pick<CbotSim, 'callbacks'>): Set<string> {
  return new Set(sim.callbacks().flatMap((c) => callbackKeys(c.payload)));
}

/** Compares the events both subscribers got with what the simulator's callbacks should have produced. */
export function countInbound(
  sim: Pick<CbotSim, 'callbacks' | 'counters'>,
  subscriber: Pick<QueueSubscriber, 'keyOf' | 'runs' | 'unparsable'>,
  receiver: Pick<PushReceiver, 'keyOf' | 'acks' | 'badSignatures' | 'unparsable'>,
): InboundCounts {
  const expected = expectedEventKeys(sim);
  const queue = channel(expected, subscriber.keyOf);
  for (const [id, runs] of subscriber.runs) if (runs > 1) queue.dups.push(`${id} ran ${runs}×`);
  const http = channel(expected, receiver.keyOf);
  for (const acks of receiver.acks.values()) http.redeliveries += acks - 1;
  const callbacks = sim.callbacks();
  return {
    expectedKeys: expected.size,
    queue,
    http,
    badSignatures: receiver.badSignatures,
    unparsable: subscriber.unparsable + receiver.unparsable,
    callbacksUndelivered: callbacks.filter((c) => !c.deliveries.some((d) => d.state === 'delivered')).length,
    statusCallbacksSkipped: sim.counters().statusCallbacksSkipped,
  };
}

function channel(expected: Set<string>, keyOf: Map<string, string>): ChannelCounts {
  const idsOf = new Map<string, Set<string>>();
  for (const [id, key] of keyOf) idsOf.set(key, (idsOf.get(key) ?? new Set()).add(id));
  const out: ChannelCounts = { lost: [], dups: [], redeliveries: 0, delivered: 0, unexpected: 0 };
  for (const key of expected) {
    if (idsOf.has(key)) out.delivered++;
    else out.lost.push(key);
  }
  for (const [key, ids] of idsOf) {
    if (ids.size > 1) out.dups.push(`${key} under ${ids.size} event ids`);
    if (!expected.has(key)) out.unexpected++;
  }
  return out;
}
