import type { CbotSim } from '@cbot-relay/cbot-sim';
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
  /** Extra copies the documented residual window does not allow (see countOutbound): must be 0. */
  dupUnexplained: string[];
  /**
   * Extra copies the relay counted as resends, each sent while no status callback of any earlier copy
   * had reached the relay: the residual window of reconciliation (docs/resilience.md) — allowed, reported.
   */
  dupResidual: string[];
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

const TEXT = /^r(\d+)-(\d+)$/;
const textOf = (body: Record<string, unknown>) => (body.text as { body?: unknown } | undefined)?.body;

/** When a status callback for each wamid first reached the relay (its webhook answered 200), epoch ms. */
export function statusReachedRelay(sim: Pick<CbotSim, 'callbacks'>): Map<string, number> {
  const at = new Map<string, number>();
  for (const c of sim.callbacks()) {
    if (c.kind !== 'status') continue;
    const delivered = c.deliveries.map((d) => (d.deliveredAt === undefined ? Number.NaN : Date.parse(d.deliveredAt))).filter((t) => !Number.isNaN(t));
    if (delivered.length === 0) continue;
    const first = Math.min(...delivered);
    for (const wamid of statusWamids(c.payload)) at.set(wamid, Math.min(at.get(wamid) ?? Number.POSITIVE_INFINITY, first));
  }
  return at;
}

function statusWamids(payload: unknown): string[] {
  const p = payload as { statuses?: { id?: unknown }[]; entry?: { changes?: { value?: { statuses?: { id?: unknown }[] } }[] }[] };
  const lists = [p.statuses ?? [], ...(p.entry ?? []).flatMap((e) => (e.changes ?? []).map((c) => c.value?.statuses ?? []))];
  return lists.flat().map((s) => s.id).filter((id): id is string => typeof id === 'string');
}

/**
 * Compares what the callers got 202 for with what CBOT (the simulator) received, in order.
 *
 * A message CBOT got n times has n − 1 extra copies. With no excuses but the documented residual
 * window of reconciliation (docs/resilience.md): an attempt whose answer was lost is resent only when
 * no status identified it within RECONCILE_WINDOW_S, so each extra copy must be (a) a resend the
 * relay counted (at most its `resends` for that message) and (b) sent while no status callback of any
 * earlier copy had reached the relay — the simulator's own evidence (the time its webhook answered
 * 200), independent of the relay. A lost answer (dropped on purpose, a client that hung up, a killed
 * or frozen dispatcher) no longer excuses anything by itself: its status identifies the message.
 */
export async function countOutbound(
  accepted: Accepted[][],
  sim: Pick<CbotSim, 'received' | 'callbacks'>,
  store: Pick<MessageStore, 'status' | 'resends' | 'ambiguousResends'>,
): Promise<OutboundCounts> {
  const times = new Map<string, number>();
  const copiesOf = new Map<string, { wamid: string; atMs: number }[]>();
  const statusAt = statusReachedRelay(sim);
  const seqsOf = new Map<number, number[]>();
  const answersLost = { dropped: 0, clientGone: 0 };
  for (const m of sim.received()) {
    if (m.answer === 'dropped') answersLost.dropped++;
    if (m.answer === 'client-gone') answersLost.clientGone++;
    const text = textOf(m.body);
    const match = typeof text === 'string' ? TEXT.exec(text) : null;
    if (!match || typeof text !== 'string') continue;
    times.set(text, (times.get(text) ?? 0) + 1);
    copiesOf.set(text, [...(copiesOf.get(text) ?? []), { wamid: m.wamid, atMs: Date.parse(m.receivedAt) }]);
    const r = Number(match[1]);
    const seqs = seqsOf.get(r) ?? [];
    seqs.push(Number(match[2]));
    seqsOf.set(r, seqs);
  }
  const all = accepted.flat();
  const known = new Set(all.map((a) => a.text));
  const out: OutboundCounts = {
    accepted: all.length, delivered: 0, lost: [], dupUnexplained: [], dupResidual: [],
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
      const copies = copiesOf.get(a.text) ?? [];
      const line = `${a.text} ×${n} (${a.relayId}, relay resends ${resends})`;
      // The first later copy sent after a status of an earlier copy had reached the relay.
      const early = copies.slice(1).flatMap((c, k) =>
        copies.slice(0, k + 1).flatMap((e) => {
          const s = statusAt.get(e.wamid);
          return s !== undefined && s <= c.atMs ? [`a status of ${e.wamid} reached the relay ${c.atMs - s} ms before the copy ${c.wamid} was sent`] : [];
        }),
      );
      if (extra > resends) out.dupUnexplained.push(`${line}: sent again without a counted resend`);
      else if (early.length > 0) out.dupUnexplained.push(`${line}: ${early[0]}`);
      else out.dupResidual.push(`${line}: no status of an earlier copy had reached the relay`);
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
