import { cpuMeter } from './cpu.js';
import type { EnvFor } from './processes.js';
import { API_KEY, startDispatcher, stopChild } from './processes.js';
import { pacedLoad } from './paced-load.js';
import { tagOf, textMessage } from './payloads.js';
import type { Measured, RssTracker } from './rss.js';
import { resetSim, setSimLatency, simReceived } from './sim-client.js';
import { percentile, sleep } from './stats.js';
import type { Teardown } from './teardown.js';

export interface LatencyRun {
  ratePerS: number;
  simLatencyMs: number;
  measured: number;
  /** Accept→CBOT: simulator receivedAt minus the moment the client had its 202. */
  fromAck: { p50: number; p90: number; p99: number; max: number };
  /** Share of messages that reached CBOT more than 10 ms after their 202 (they waited behind another send). */
  over10MsShare: number;
  /** The same from the moment the client sent the request (includes the ingress's own latency). */
  fromSend: { p50: number; p90: number; p99: number; max: number };
  /** 202 latency as the paced client saw it. */
  ack: { p50: number; p99: number };
  lost: number;
  non202: number;
  /** Cores each process kept busy while the paced load ran. */
  coresBusy: Record<string, number>;
}

/**
 * Open-loop 500 msg/s through the ingress with one dispatcher running. The first `warmS` seconds are
 * sent but not counted (JIT, connection set-up). Each message carries a unique tag first in its text,
 * so the simulator's record of it (receivedAt, in ms) is matched back to the request.
 */
export async function measureLatency(o: {
  td: Teardown;
  ingressUrl: string;
  redisUrl: string;
  simUrl: string;
  env: EnvFor;
  simLatencyMs: number;
  ratePerS: number;
  warmS: number;
  durationS: number;
  rss: RssTracker;
  others: Measured[];
  pids: { ingress: number; redis: number; sim: number };
  log: (line: string) => void;
}): Promise<LatencyRun> {
  await resetSim(o.simUrl);
  await setSimLatency(o.simUrl, o.simLatencyMs);
  const dispatcher = await startDispatcher(o.td, 1, o.redisUrl, o.simUrl, o.env);
  try {
    const run = `L${o.simLatencyMs}`;
    const meter = cpuMeter({ ...o.pids, dispatcher: dispatcher.pid, loadGenerator: process.pid });
    const t0 = performance.now();
    const sends = await pacedLoad({
      url: o.ingressUrl,
      path: '/v1/messages',
      headers: { authorization: `Bearer ${API_KEY}` },
      body: (i) => textMessage(i, `${run}-${i}`),
      ratePerS: o.ratePerS,
      durationS: o.warmS + o.durationS,
      connections: 64,
    });
    const cpu = meter();
    const wallMs = performance.now() - t0;
    const coresBusy = Object.fromEntries(Object.entries(cpu).map(([k, ms]) => [k, Math.round((ms / wallMs) * 100) / 100]));
    const accepted = sends.filter((s) => s.status === 202);
    // Bounded wait for the tail to reach the simulator.
    for (let waited = 0; waited < 15_000; waited += 250) {
      if ((await simReceived(o.simUrl)).accepted >= accepted.length) break;
      await sleep(250);
    }
    o.rss.sample(`latency ${o.simLatencyMs} ms`, [dispatcher, ...o.others]);
    const receivedAt = new Map<string, number>();
    for (const m of (await simReceived(o.simUrl)).messages) {
      const tag = tagOf(m.body);
      if (tag !== undefined) receivedAt.set(tag, Date.parse(m.receivedAt));
    }
    const warm = o.warmS * o.ratePerS;
    const fromAck: number[] = [];
    const fromSend: number[] = [];
    const ack: number[] = [];
    let lost = 0;
    for (const s of accepted) {
      if (s.i < warm || s.ackAt === undefined) continue;
      const at = receivedAt.get(`${run}-${s.i}`);
      if (at === undefined) {
        lost++;
        continue;
      }
      fromAck.push(at - s.ackAt);
      fromSend.push(at - s.sentAt);
      ack.push(s.ackAt - s.sentAt);
    }
    const stats = (xs: number[]) => {
      xs.sort((a, b) => a - b);
      return { p50: percentile(xs, 50), p90: percentile(xs, 90), p99: percentile(xs, 99), max: xs[xs.length - 1] ?? Number.NaN };
    };
    const a = stats(fromAck);
    const s = stats(fromSend);
    const k = stats(ack);
    const over10MsShare = fromAck.filter((x) => x > 10).length / Math.max(1, fromAck.length);
    const result = { ratePerS: o.ratePerS, simLatencyMs: o.simLatencyMs, measured: fromAck.length, fromAck: a, over10MsShare, fromSend: s, ack: { p50: k.p50, p99: k.p99 }, lost, non202: sends.length - accepted.length, coresBusy };
    o.log(
      `  accept→CBOT at ${o.ratePerS} msg/s, CBOT latency ${o.simLatencyMs} ms: from 202 p50 ${a.p50.toFixed(1)} p90 ${a.p90.toFixed(1)} p99 ${a.p99.toFixed(1)} max ${a.max.toFixed(1)} ms, ${(over10MsShare * 100).toFixed(1)} % over 10 ms; ` +
        `from send p50 ${s.p50.toFixed(1)} p99 ${s.p99.toFixed(1)} ms; 202 p99 ${k.p99.toFixed(1)} ms (${result.measured} msgs, lost ${lost}, non-202 ${result.non202}); cores busy ${JSON.stringify(coresBusy)}`,
    );
    return result;
  } finally {
    await stopChild(dispatcher);
  }
}
