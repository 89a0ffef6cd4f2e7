import type { Redis } from 'ioredis';
import type { EnvFor } from './processes.js';
import { PREFIX, startDispatcher, stopChild } from './processes.js';
import type { Measured, RssTracker } from './rss.js';
import { setSimLatency, simReceived } from './sim-client.js';
import { sleep } from './stats.js';
import type { Teardown } from './teardown.js';

export interface DispatchRun {
  processes: number;
  latencyMs: number;
  /** Messages the simulator accepted per second over the steady window, all processes together. */
  msgsPerS: number;
  perProcessMsgsPerS: number;
  /** Rate of each second of the window: how steady the figure is. */
  perSecond: number[];
  windowS: number;
  /** Simulator non-200 answers during the run (should be none). */
  failures: Record<string, number>;
  /** Backlog at the end of the window; 0 would mean the queue ran dry and the rate is a lower bound. */
  backlogAfter: number;
}

export async function backlog(redis: Redis): Promise<number> {
  return Number((await redis.get(`${PREFIX}:backlog`)) ?? 0);
}

/**
 * k dispatcher processes drain the pre-loaded lanes while the bench reads the simulator's accepted
 * counter once a second. The rate is taken over a steady window that starts `warmS` after every
 * process logged "started" (128 lane workers connect one after another at startup), and the
 * processes are stopped after it, leaving the rest of the backlog for the next run.
 */
export async function measureDispatch(o: {
  td: Teardown;
  processes: number;
  latencyMs: number;
  redis: Redis;
  redisUrl: string;
  simUrl: string;
  env: EnvFor;
  warmS: number;
  windowS: number;
  rss: RssTracker;
  others: Measured[];
  log: (line: string) => void;
}): Promise<DispatchRun> {
  await setSimLatency(o.simUrl, o.latencyMs);
  const startCounters = await simReceived(o.simUrl);
  const children = await Promise.all(
    Array.from({ length: o.processes }, (_, n) => startDispatcher(o.td, n + 1, o.redisUrl, o.simUrl, o.env)),
  );
  try {
    await sleep(o.warmS * 1000);
    const samples: { t: number; n: number }[] = [];
    const take = async () => samples.push({ t: performance.now(), n: (await simReceived(o.simUrl)).accepted });
    await take();
    for (let s = 0; s < o.windowS; s++) {
      const next = (samples[0]?.t ?? 0) + (s + 1) * 1000;
      await sleep(Math.max(0, next - performance.now()));
      await take();
    }
    const end = await simReceived(o.simUrl);
    const backlogAfter = await backlog(o.redis);
    o.rss.sample(`dispatch k=${o.processes} ${o.latencyMs} ms`, [...children, ...o.others]);
    const first = samples[0]!;
    const last = samples[samples.length - 1]!;
    const msgsPerS = ((last.n - first.n) * 1000) / (last.t - first.t);
    const perSecond = samples.slice(1).map((s, i) => Math.round(((s.n - samples[i]!.n) * 1000) / (s.t - samples[i]!.t)));
    const failures: Record<string, number> = {};
    for (const [code, n] of Object.entries(end.failures)) {
      const d = n - (startCounters.failures[code] ?? 0);
      if (d > 0) failures[code] = d;
    }
    o.log(
      `  dispatch k=${o.processes} at ${o.latencyMs} ms: ${Math.round(msgsPerS)} msg/s (${Math.round(msgsPerS / o.processes)} per process); per second ${perSecond.join(' ')}` +
        (backlogAfter === 0 ? ' — QUEUE RAN DRY, lower bound' : '') +
        (Object.keys(failures).length ? ` — simulator failures ${JSON.stringify(failures)}` : ''),
    );
    return { processes: o.processes, latencyMs: o.latencyMs, msgsPerS, perProcessMsgsPerS: msgsPerS / o.processes, perSecond, windowS: o.windowS, failures, backlogAfter };
  } finally {
    await Promise.all(children.map((c) => stopChild(c)));
  }
}
