import { Redis } from 'ioredis';
import { LocalRedis } from '@cbot-relay/testing';
import type { ClosedLoopResult } from './load.js';
import { closedLoop } from './load.js';
import type { EnvFor } from './processes.js';
import { API_KEY, startIngress } from './processes.js';
import type { Teardown } from './teardown.js';

export interface ReplicationRun {
  /** Best round of each: REDIS_WAIT_REPLICAS=0 and =1, against the same primary with one replica. */
  wait0: ClosedLoopResult;
  wait1: ClosedLoopResult;
  /** wait1 ÷ wait0 throughput. */
  ratio: number;
  rounds: { wait0: ClosedLoopResult[]; wait1: ClosedLoopResult[] };
}

/**
 * The cost of REDIS_WAIT_REPLICAS=1 (docs/resilience.md): a local primary and one replica
 * (`replicaof`, both on this machine), two ingress processes on the primary, one waiting for the
 * replica before each 202 and one not; closed-loop sends, the two taking turns as in the accept phase.
 */
export async function measureReplication(o: {
  td: Teardown;
  aof: boolean;
  simUrl: string;
  env: EnvFor;
  body: (i: number) => string;
  connections: number;
  rounds: number;
  warmS: number;
  durationS: number;
  log: (line: string) => void;
}): Promise<ReplicationRun> {
  const primary = o.td.add('replication primary', await LocalRedis.start({ aof: o.aof }), (r) => r.close());
  const replica = o.td.add('replication replica', await LocalRedis.start({ aof: o.aof, args: ['--replicaof', '127.0.0.1', String(primary.port)] }), (r) => r.close());
  const withWait = (n: number): EnvFor => (role) => ({ ...o.env(role), REDIS_WAIT_REPLICAS: String(n), QUEUE_PREFIX: `bench-repl-${n}` });
  // Measured once the replica is linked: WAIT would otherwise count 0 replicas (and every send be a 503).
  const probe = new Redis(replica.port, '127.0.0.1', { maxRetriesPerRequest: 3 });
  try {
    for (let i = 0; !/master_link_status:up/.test(await probe.info('replication')); i++) {
      if (i > 800) throw new Error('replica did not link to its primary within 20 s');
      await new Promise((r) => setTimeout(r, 25));
    }
  } finally {
    probe.disconnect();
  }
  const ingress0 = await startIngress(o.td, primary.url, o.simUrl, withWait(0));
  const ingress1 = await startIngress(o.td, primary.url, o.simUrl, withWait(1));
  o.log(`  primary :${primary.port}, replica :${replica.port}`);
  const runs: { wait0: ClosedLoopResult[]; wait1: ClosedLoopResult[] } = { wait0: [], wait1: [] };
  for (let round = 0; round < o.rounds; round++) {
    for (const [name, ingress] of [['wait0', ingress0], ['wait1', ingress1]] as const) {
      const base = { url: ingress.url, path: '/v1/messages', headers: { authorization: `Bearer ${API_KEY}` }, body: o.body, connections: o.connections };
      await closedLoop({ ...base, durationS: o.warmS });
      const r = await closedLoop({ ...base, durationS: o.durationS });
      runs[name].push(r);
      const bad = r.non2xx + r.errors > 0 ? ` (non-2xx ${r.non2xx}: ${JSON.stringify(r.statusCodes)}, errors ${r.errors})` : '';
      o.log(`  REDIS_WAIT_REPLICAS=${name === 'wait0' ? 0 : 1} round ${round + 1}: ${Math.round(r.rps)} req/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms${bad}`);
    }
  }
  const best = (rs: ClosedLoopResult[]) => rs.reduce((a, b) => (b.rps > a.rps ? b : a));
  const wait0 = best(runs.wait0);
  const wait1 = best(runs.wait1);
  return { wait0, wait1, ratio: wait1.rps / wait0.rps, rounds: runs };
}
