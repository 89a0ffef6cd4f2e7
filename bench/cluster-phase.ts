import { Cluster } from 'ioredis';
import { resolvePartitions } from '@cbot-relay/records';
import { LocalRedisCluster } from '@cbot-relay/testing';
import type { DispatchRun } from './dispatch-phase.js';
import { measureDispatch, preload } from './dispatch-phase.js';
import type { EnvFor } from './processes.js';
import type { Measured, RssTracker } from './rss.js';
import type { Teardown } from './teardown.js';

export interface ClusterRun extends DispatchRun {
  partitions: number;
  /** Each primary's share of the Redis CPU the run used. */
  primaryShares: number[];
}

/**
 * A local three-primary Redis Cluster (no AOF; its own redis-servers on free ports): one dispatcher
 * at CBOT 300 ms drains a pre-loaded campaign with the outbound side in one partition, then in
 * twelve. The figure is where the Redis work lands: all on one primary, then spread over the three.
 */
export async function measureCluster(o: {
  td: Teardown;
  simUrl: string;
  simPid: number;
  env: EnvFor;
  warmS: number;
  windowS: number;
  rss: RssTracker;
  others: Measured[];
  messages: number;
  log: (line: string) => void;
}): Promise<ClusterRun[]> {
  const cluster = o.td.add('redis cluster', await LocalRedisCluster.start(3), (c) => c.close());
  const conn = o.td.add('cluster client', new Cluster([{ host: '127.0.0.1', port: cluster.ports[0]! }], { redisOptions: { maxRetriesPerRequest: 3 } }), async (c) => c.disconnect());
  const runs: ClusterRun[] = [];
  for (const partitions of [1, 12]) {
    const prefix = `{bench-cluster-${partitions}}`;
    await resolvePartitions(conn, prefix, { configured: partitions, cluster: true });
    await preload(conn, prefix, o.messages, ['a'], ['normal'], partitions);
    const run = await measureDispatch({
      td: o.td,
      processes: 1,
      latencyMs: 300,
      redis: conn,
      redisUrl: cluster.url,
      simUrl: o.simUrl,
      env: (role) => ({ ...o.env(role), REDIS_CLUSTER: '1' }),
      warmS: o.warmS,
      windowS: o.windowS,
      rss: o.rss,
      others: o.others,
      pids: { redis: cluster.pids, sim: o.simPid },
      log: o.log,
      prefix,
      partitions,
      label: `Redis Cluster, ${partitions} partition${partitions === 1 ? '' : 's'}`,
    });
    const busy = run.redisNodesCoresBusy ?? [];
    const total = busy.reduce((a, b) => a + b, 0) || 1;
    runs.push({ ...run, partitions, primaryShares: busy.map((b) => b / total) });
  }
  return runs;
}
