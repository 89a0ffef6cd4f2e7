import type { Redis } from 'ioredis';
import { cpuMeter } from './cpu.js';
import type { ClosedLoopResult } from './load.js';
import { closedLoop } from './load.js';

export interface AcceptTarget {
  name: 'relay' | 'baseline';
  url: string;
  pid: number;
  headers: Record<string, string>;
}

/** One measured round plus the CPU each process spent per accepted request, µs. */
export interface AcceptRound extends ClosedLoopResult {
  cpuUsPerRequest: { server: number; redis: number; loadGenerator: number };
  /** Share of one core each process used during the round. */
  coresBusy: { server: number; redis: number; loadGenerator: number };
  /** Time Redis spent executing commands per accepted request (INFO commandstats), µs. */
  redisCommandUsPerRequest: number;
}

/** Total µs Redis has spent executing commands since its start (sum of INFO commandstats usec). */
async function commandUs(redis: Redis): Promise<number> {
  const stats = await redis.info('commandstats');
  return [...stats.matchAll(/usec=(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
}

export interface AcceptComparison {
  relay: AcceptRound;
  baseline: AcceptRound;
  /** Every round, for results.json: the noise between rounds is part of the answer. */
  rounds: { relay: AcceptRound[]; baseline: AcceptRound[] };
  /** relay ÷ baseline throughput of the reported (best) rounds. */
  ratio: number;
  /** baseline ÷ relay server CPU per request: the throughput ratio if each server had its own cores. */
  cpuRatio: number;
}

/**
 * Relay and baseline take turns (relay, baseline, relay, baseline…) so a burst of load from other
 * work on the machine hits both alike, each round preceded by a short warm-up (JIT, sockets, Redis
 * scripts). The reported figure for each is its best round: on a shared 2-core machine the best
 * round is the one least disturbed by others, and both sides get the same treatment.
 */
export async function compareAccept(o: {
  path: string;
  body: (i: number) => string;
  targets: [AcceptTarget, AcceptTarget];
  redisPid: number;
  redis: Redis;
  connections: number;
  rounds: number;
  warmS: number;
  durationS: number;
  log: (line: string) => void;
}): Promise<AcceptComparison> {
  const runs: Record<'relay' | 'baseline', AcceptRound[]> = { relay: [], baseline: [] };
  for (let round = 0; round < o.rounds; round++) {
    for (const t of o.targets) {
      const base = { url: t.url, path: o.path, headers: t.headers, body: o.body, connections: o.connections };
      await closedLoop({ ...base, durationS: o.warmS });
      const meter = cpuMeter({ server: t.pid, redis: o.redisPid, loadGenerator: process.pid });
      const usBefore = await commandUs(o.redis);
      const r = await closedLoop({ ...base, durationS: o.durationS });
      const cpu = meter();
      const redisCommandUsPerRequest = (await commandUs(o.redis)) - usBefore;
      const per = (ms: number | undefined) => ((ms ?? 0) * 1000) / Math.max(1, r.ok);
      const busy = (ms: number | undefined) => (ms ?? 0) / (r.durationS * 1000);
      const result: AcceptRound = {
        ...r,
        cpuUsPerRequest: { server: per(cpu.server), redis: per(cpu.redis), loadGenerator: per(cpu.loadGenerator) },
        coresBusy: { server: busy(cpu.server), redis: busy(cpu.redis), loadGenerator: busy(cpu.loadGenerator) },
        redisCommandUsPerRequest: redisCommandUsPerRequest / Math.max(1, r.ok),
      };
      runs[t.name].push(result);
      const bad = r.non2xx + r.errors > 0 ? ` (non-2xx ${r.non2xx}: ${JSON.stringify(r.statusCodes)}, errors ${r.errors})` : '';
      const c = result.cpuUsPerRequest;
      const b = result.coresBusy;
      o.log(
        `  ${o.path} ${t.name.padEnd(8)} round ${round + 1}: ${Math.round(r.rps)} req/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms; ` +
          `CPU µs/req server ${Math.round(c.server)}, redis ${Math.round(c.redis)} (commands ${result.redisCommandUsPerRequest.toFixed(1)}), load generator ${Math.round(c.loadGenerator)} ` +
          `(cores busy ${b.server.toFixed(2)}/${b.redis.toFixed(2)}/${b.loadGenerator.toFixed(2)})${bad}`,
      );
    }
  }
  const best = (rs: AcceptRound[]) => rs.reduce((a, b) => (b.rps > a.rps ? b : a));
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? Number.NaN;
  const relay = best(runs.relay);
  const baseline = best(runs.baseline);
  const cpuRatio = median(runs.baseline.map((r) => r.cpuUsPerRequest.server)) / median(runs.relay.map((r) => r.cpuUsPerRequest.server));
  return { relay, baseline, rounds: runs, ratio: relay.rps / baseline.rps, cpuRatio };
}
