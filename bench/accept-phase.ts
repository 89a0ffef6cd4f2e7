import type { ClosedLoopResult } from './load.js';
import { closedLoop } from './load.js';

export interface AcceptTarget {
  name: 'relay' | 'baseline';
  url: string;
  headers: Record<string, string>;
}

export interface AcceptComparison {
  relay: ClosedLoopResult;
  baseline: ClosedLoopResult;
  /** Every round, for results.json: the noise between rounds is part of the answer. */
  rounds: { relay: ClosedLoopResult[]; baseline: ClosedLoopResult[] };
  ratio: number;
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
  connections: number;
  rounds: number;
  warmS: number;
  durationS: number;
  log: (line: string) => void;
}): Promise<AcceptComparison> {
  const runs: Record<'relay' | 'baseline', ClosedLoopResult[]> = { relay: [], baseline: [] };
  for (let round = 0; round < o.rounds; round++) {
    for (const t of o.targets) {
      const base = { url: t.url, path: o.path, headers: t.headers, body: o.body, connections: o.connections };
      await closedLoop({ ...base, durationS: o.warmS });
      const r = await closedLoop({ ...base, durationS: o.durationS });
      runs[t.name].push(r);
      const bad = r.non2xx + r.errors > 0 ? ` (non-2xx ${r.non2xx}: ${JSON.stringify(r.statusCodes)}, errors ${r.errors})` : '';
      o.log(`  ${o.path} ${t.name.padEnd(8)} round ${round + 1}: ${Math.round(r.rps)} req/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms${bad}`);
    }
  }
  const best = (rs: ClosedLoopResult[]) => rs.reduce((a, b) => (b.rps > a.rps ? b : a));
  const relay = best(runs.relay);
  const baseline = best(runs.baseline);
  return { relay, baseline, rounds: runs, ratio: relay.rps / baseline.rps };
}
