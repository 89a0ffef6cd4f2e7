import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { recipientNumber } from './load-driver.js';

/** A message sent with X-Relay-Send-At (and maybe X-Relay-Tag), as the driver saw it accepted. */
export interface ScheduledSend {
  text: string;
  relayId: string;
  sendAtMs: number;
  /** Set for the campaign that is canceled mid-run. */
  tag?: string;
}

export interface CancelAnswer {
  tag: string;
  /** When the 200 arrived (epoch ms): no message it counted may reach CBOT, before or after. */
  answeredAtMs: number;
  canceled: number;
}

export interface ScheduleOptions {
  baseUrl: string;
  apiKey: string;
  /** The load's recipients: scheduled messages join their queues, between their immediate ones. */
  recipients: number;
  /** Scheduled messages per second (each 1.5–4 s ahead). */
  ratePerS: number;
  /** Messages of the campaign that is canceled, due 12–37 s after the start, sent at the start. */
  campaign: number;
}

export const CAMPAIGN_TAG = 'faults-campaign';

/**
 * Scheduled and canceled messages in the fault suite's mix. Bodies `s<recipient>-<k>` (scheduled, must
 * arrive once, not before their time) and `c<recipient>-<k>` (the campaign, tagged, canceled by tag
 * mid-run: every one the cancel counted must never reach CBOT). They go to the load's recipients, so
 * they sit in the same recipient queues as the immediate messages, whose order the suite checks as
 * before (a scheduled message must not hold them back or reorder them). Sends retry 503, 429 and
 * network errors with the same Idempotency-Key, like the load.
 */
export class ScheduleDriver {
  readonly scheduled: ScheduledSend[] = [];
  readonly campaign: ScheduledSend[] = [];
  readonly failures: string[] = [];
  cancel: CancelAnswer | undefined;
  readonly #agent = new Agent({ connect: { timeout: 2_000 }, keepAliveTimeout: 4_000, connections: 32 });
  readonly #o: ScheduleOptions;
  #stopped = false;
  #loop: Promise<void> | undefined;

  constructor(o: ScheduleOptions) {
    this.#o = o;
  }

  /**
   * Sends the campaign (due from `startedAt` + 12 s, spread over 25 s; 30 sends at a time, all of it
   * before returning), then scheduled messages until stop(). Returns the start time.
   */
  async start(): Promise<number> {
    const startedAt = Date.now();
    let next = 0;
    const worker = async () => {
      for (let k = next++; k < this.#o.campaign; k = next++) {
        const r = k % this.#o.recipients;
        const sent = await this.#send(`c${r}-${k}`, r, startedAt + 12_000 + (k * 25_000) / this.#o.campaign, CAMPAIGN_TAG);
        if (sent) this.campaign.push(sent);
      }
    };
    await Promise.all(Array.from({ length: 30 }, worker));
    this.#loop = this.#run();
    return startedAt;
  }

  async #run(): Promise<void> {
    const periodMs = 1000 / this.#o.ratePerS;
    for (let k = 0; !this.#stopped; k++) {
      const r = (k * 7) % this.#o.recipients;
      const sent = await this.#send(`s${r}-${k}`, r, Date.now() + 1_500 + (k % 6) * 500);
      if (sent) this.scheduled.push(sent);
      await sleep(periodMs);
    }
  }

  /** POST /v1/messages/cancel for the campaign's tag, retried like a send until it answers 200. */
  async cancelCampaign(): Promise<CancelAnswer> {
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await request(`${this.#o.baseUrl}/v1/messages/cancel`, {
          method: 'POST',
          headers: { authorization: `Bearer ${this.#o.apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ tag: CAMPAIGN_TAG }),
          dispatcher: this.#agent,
          headersTimeout: 30_000,
          bodyTimeout: 30_000,
        });
        const text = await res.body.text();
        if (res.statusCode === 200) {
          this.cancel = { tag: CAMPAIGN_TAG, answeredAtMs: Date.now(), canceled: (JSON.parse(text) as { canceled: number }).canceled };
          return this.cancel;
        }
        if (attempt > 50) throw new Error(`cancel answered ${res.statusCode}: ${text.slice(0, 200)}`);
      } catch (err) {
        if (attempt > 50) throw err;
      }
      await sleep(200);
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
    await this.#agent.close().catch(() => undefined);
  }

  async #send(text: string, r: number, sendAtMs: number, tag?: string): Promise<ScheduledSend | undefined> {
    const body = JSON.stringify({ to: recipientNumber(r), type: 'text', text: { body: text } });
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.#o.apiKey}`,
      'content-type': 'application/json',
      'idempotency-key': `faults-${text}`,
      'x-relay-send-at': new Date(sendAtMs).toISOString(),
      ...(tag ? { 'x-relay-tag': tag } : {}),
    };
    const giveUpAt = Date.now() + 60_000;
    while (Date.now() < giveUpAt) {
      try {
        const res = await request(`${this.#o.baseUrl}/v1/messages`, { method: 'POST', headers, body, dispatcher: this.#agent, headersTimeout: 10_000, bodyTimeout: 10_000 });
        const answer = await res.body.text();
        if (res.statusCode === 202) return { text, relayId: (JSON.parse(answer) as { id: string }).id, sendAtMs, ...(tag ? { tag } : {}) };
        if (res.statusCode !== 503 && res.statusCode !== 429) {
          this.failures.push(`${text}: HTTP ${res.statusCode} ${answer.slice(0, 200)}`);
          return undefined;
        }
      } catch {
        // Connection refused/reset: maybe accepted; the Idempotency-Key makes the retry safe.
      }
      await sleep(200);
    }
    this.failures.push(`${text}: never accepted`);
    return undefined;
  }
}

export interface ScheduleCounts {
  scheduled: number;
  /** Scheduled messages CBOT never received. */
  lost: string[];
  /** Copies CBOT received before the message's X-Relay-Send-At. */
  early: string[];
  /** Extra copies the relay did not count as resends. */
  dupUnexplained: string[];
  /** How late after its time each scheduled message's first copy reached CBOT, ms. */
  lateMs: { p50: number; p99: number; max: number };
  campaign: number;
  /** What the cancel answered, and how many campaign records ended canceled. */
  canceledAnswered: number;
  canceledRecords: number;
  /** Canceled campaign messages CBOT received anyway: must be 0. */
  canceledButSent: string[];
  /** Campaign messages not canceled (already sending when their slice ran) that CBOT never received. */
  campaignLost: string[];
  /** Not-canceled campaign messages CBOT received after the cancel's answer (in flight then). */
  sentAfterAnswer: number;
}

const textOf = (body: Record<string, unknown>) => (body.text as { body?: unknown } | undefined)?.body;

/** Compares the scheduled and canceled messages with what CBOT received and the records say. */
export async function countSchedule(
  d: Pick<ScheduleDriver, 'scheduled' | 'campaign' | 'cancel'>,
  received: readonly { body: Record<string, unknown>; receivedAt: string }[],
  store: { status(id: string): Promise<string | undefined>; resends(id: string): Promise<number> },
): Promise<ScheduleCounts> {
  const copies = new Map<string, number[]>();
  for (const m of received) {
    const t = textOf(m.body);
    if (typeof t === 'string' && /^[sc]\d+-\d+$/.test(t)) copies.set(t, [...(copies.get(t) ?? []), Date.parse(m.receivedAt)]);
  }
  const late: number[] = [];
  const out: ScheduleCounts = {
    scheduled: d.scheduled.length, lost: [], early: [], dupUnexplained: [], lateMs: { p50: 0, p99: 0, max: 0 },
    campaign: d.campaign.length, canceledAnswered: d.cancel?.canceled ?? -1, canceledRecords: 0, canceledButSent: [], campaignLost: [], sentAfterAnswer: 0,
  };
  for (const s of d.scheduled) {
    const at = copies.get(s.text) ?? [];
    if (at.length === 0) out.lost.push(`${s.text} (${s.relayId}: ${(await store.status(s.relayId)) ?? 'no record'})`);
    else late.push(Math.min(...at) - s.sendAtMs);
    if (at.some((t) => t < s.sendAtMs)) out.early.push(`${s.text}: at ${new Date(Math.min(...at)).toISOString()}, due ${new Date(s.sendAtMs).toISOString()}`);
    if (at.length > 1 && at.length - 1 > (await store.resends(s.relayId))) out.dupUnexplained.push(`${s.text} ×${at.length}`);
  }
  late.sort((a, b) => a - b);
  const q = (p: number) => late[Math.min(late.length - 1, Math.floor(p * late.length))] ?? 0;
  out.lateMs = { p50: q(0.5), p99: q(0.99), max: late[late.length - 1] ?? 0 };
  for (const c of d.campaign) {
    const status = await store.status(c.relayId);
    const at = copies.get(c.text) ?? [];
    if (status === 'canceled') {
      out.canceledRecords++;
      if (at.length > 0) out.canceledButSent.push(`${c.text} (${c.relayId}) reached CBOT ${at.length}× although canceled`);
    } else {
      if (at.length === 0) out.campaignLost.push(`${c.text} (${c.relayId}: ${status ?? 'no record'})`);
      if (d.cancel && at.some((t) => t > d.cancel!.answeredAtMs)) out.sentAfterAnswer++;
    }
  }
  return out;
}

/** The bars: nothing scheduled lost, early or duplicated unexplained; every canceled message unsent, and counted right. */
export function scheduleFailures(c: ScheduleCounts, driverFailures: readonly string[]): string[] {
  const f: string[] = [];
  const bar = (ok: boolean, why: string) => ok || f.push(why);
  bar(c.scheduled > 0, 'no scheduled message was accepted');
  bar(driverFailures.length === 0, `scheduled sends refused: ${driverFailures.slice(0, 3).join(' | ')}`);
  bar(c.lost.length === 0, `${c.lost.length} scheduled messages lost, e.g. ${c.lost.slice(0, 5).join(', ')}`);
  bar(c.early.length === 0, `${c.early.length} scheduled messages reached CBOT before their time, e.g. ${c.early.slice(0, 3).join(', ')}`);
  bar(c.dupUnexplained.length === 0, `${c.dupUnexplained.length} scheduled messages sent twice without a counted resend`);
  bar(c.canceledAnswered >= 0, 'the campaign was never canceled');
  bar(c.canceledAnswered === c.canceledRecords, `the cancel answered ${c.canceledAnswered} but ${c.canceledRecords} campaign records are canceled`);
  bar(c.canceledRecords > 0, 'the cancel canceled nothing: the scenario exercised nothing');
  bar(c.canceledButSent.length === 0, `${c.canceledButSent.length} canceled messages reached CBOT, e.g. ${c.canceledButSent.slice(0, 3).join(', ')}`);
  bar(c.campaignLost.length === 0, `${c.campaignLost.length} campaign messages neither canceled nor sent, e.g. ${c.campaignLost.slice(0, 3).join(', ')}`);
  return f;
}
