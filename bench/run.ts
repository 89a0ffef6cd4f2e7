import { execFileSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { AcceptComparison } from './accept-phase.js';
import { compareAccept } from './accept-phase.js';
import type { CancelResult } from './cancel-phase.js';
import { measureCancel } from './cancel-phase.js';
import type { DispatchRun } from './dispatch-phase.js';
import type { IdleRun } from './dispatch-phase.js';
import { expectedDrain, measureDispatch, measureIdle, preload, topUp } from './dispatch-phase.js';
import { PhaseRunner } from './interference.js';
import type { CampaignResult } from './campaign-phase.js';
import { measureCampaign } from './campaign-phase.js';
import type { ClusterRun } from './cluster-phase.js';
import { measureCluster } from './cluster-phase.js';
import type { LatencyRun } from './latency-phase.js';
import { measureLatency } from './latency-phase.js';
import { machineInfo, redisHealth } from './machine.js';
import type { MediaResult } from './media-phase.js';
import { measureMedia } from './media-phase.js';
import type { MemoryResult } from './memory-phase.js';
import { measureMemory } from './memory-phase.js';
import { measureLifecycle } from './memory-lifecycle.js';
import { statusCallback, textMessage } from './payloads.js';
import { API_KEY, CONCURRENCY, PREFIX, SIM_KEY, childEnv, startBaseline, startIngress, startRedis, startSim } from './processes.js';
import { markdownTable, tabulate, TARGETS, writeResults } from './report.js';
import type { Measured } from './rss.js';
import { RssTracker } from './rss.js';
import type { ReplicationRun } from './replication-phase.js';
import { measureReplication } from './replication-phase.js';
import { readSettings } from './settings.js';
import { Teardown } from './teardown.js';

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
/** `pnpm bench` takes ~4 min; past this everything is stopped and the bench fails. */
const DEADLINE_MS = 8 * 60_000;

const log = (line: string) => console.log(line);

async function main(): Promise<void> {
  const startedAt = Date.now();
  const load1 = loadavg()[0] ?? 0;
  const s = readSettings(process.env);
  const profileDir = `${BENCH_DIR}profiles`;
  if (s.cpuProfile) await mkdir(profileDir, { recursive: true });
  const env = childEnv({ profile: s.cpuProfile, profileDir, relayNodeOptions: s.relayNodeOptions, relayEnv: s.relayEnv });
  const settings = { ...s, phases: [...s.phases], concurrency: Number(s.relayEnv.DISPATCH_CONCURRENCY ?? CONCURRENCY) };

  const td = new Teardown();
  td.installSignalHandlers(DEADLINE_MS);
  try {
    // The relay runs as deployed: compiled JavaScript (incremental, a few seconds when up to date).
    execFileSync('pnpm', ['build'], { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: 'ignore' });
    log(`cbot-relay bench: Redis AOF ${s.aof ? 'on (appendfsync everysec, as in production)' : 'off'}, ${s.connections} keep-alive connections, load average ${load1.toFixed(2)}`);
    const redisServer = await startRedis(td, s.aof);
    const redis = td.add('bench redis client', new Redis(redisServer.url, { maxRetriesPerRequest: 3 }), async (r) => r.disconnect());
    for (const [k, v] of s.redisConfig) await redis.config('SET', k, v);
    const redisPid = Number(/^process_id:(\d+)/m.exec(await redis.info('server'))?.[1]);
    const machine = await machineInfo(redis, load1);

    // Two simulators: one that only counts (throughput), one that keeps every message (latency matching).
    const [simCount, simKeep, baseline] = await Promise.all([
      startSim(td, 'sim-count', 1, env),
      startSim(td, 'sim-keep', 20_000, env),
      startBaseline(td, redisServer.url, env),
    ]);
    const ingress = await startIngress(td, redisServer.url, simCount.url, env);
    const rss = new RssTracker();
    const always: Measured[] = [ingress, baseline, simCount, simKeep, { role: 'redis-server', pid: redisPid }];
    log(`started redis-server, 2 simulators, ingress, naive baseline in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);

    // Other work on a shared machine moves every figure; each phase says how much there was.
    const phases = new PhaseRunner(log);
    const phase = phases.run.bind(phases);

    const auth = { authorization: `Bearer ${API_KEY}` };
    const acceptOpts = { redisPid, redis, connections: s.connections, rounds: s.acceptRounds, warmS: s.acceptWarmS, durationS: s.acceptDurationS, log };
    let sendApi: AcceptComparison | undefined;
    let webhook: AcceptComparison | undefined;
    if (s.phases.has('accept')) {
      log('\ningress accept throughput (closed loop, relay and baseline alternate; cores busy = server/redis/load generator):');
      sendApi = await phase('send API accept', () => compareAccept({
        ...acceptOpts,
        path: '/v1/messages',
        body: (i) => textMessage(i, `A-${i}`),
        targets: [
          { name: 'relay', url: ingress.url, pid: ingress.pid, headers: auth },
          { name: 'baseline', url: baseline.url, pid: baseline.pid, headers: {} },
        ],
      }));
      rss.sample('send API accept', always);
    }
    if (s.phases.has('webhook')) {
      log('\nwebhook accept throughput:');
      webhook = await phase('webhook accept', () => compareAccept({
        ...acceptOpts,
        path: '/webhooks/cbot',
        body: statusCallback,
        targets: [
          { name: 'relay', url: ingress.url, pid: ingress.pid, headers: {} },
          { name: 'baseline', url: baseline.url, pid: baseline.pid, headers: {} },
        ],
      }));
      rss.sample('webhook accept', always);
    }

    let memory: MemoryResult | undefined;
    if (s.phases.has('memory')) {
      log('\nRedis bytes per queued message (no dispatcher running, empty Redis):');
      await redis.flushall();
      memory = await phase('memory', () => measureMemory({ redis, ingressUrl: ingress.url, count: s.memoryMessages, connections: s.connections, log }));
      log('\nRedis bytes per message over its life: a campaign to distinct recipients, queued, sent and read, past HOT_RETENTION:');
      await redis.flushall();
      const life = await phase('memory lifecycle', () => measureLifecycle({ redis, prefix: `${PREFIX}-life`, count: s.lifecycleMessages, log }));
      memory = { ...memory, lifecycle: life };
      log(`  queued ${Math.round(life.queued.bytesPerMessage)} B ${JSON.stringify(life.queued.breakdown)}`);
      log(`  sent, delivered, read ${Math.round(life.sent.bytesPerMessage)} B (${Math.round(life.sentAfterFirstHour)} B past the first hour) ${JSON.stringify(life.sent.breakdown)}`);
      log(`  past HOT_RETENTION (history on) ${Math.round(life.afterHotRetention.bytesPerMessage)} B ${JSON.stringify(life.afterHotRetention.breakdown)}; the wamid mapping at 1 M sends a day ${life.wamidMappingAtScale.bytesPerMessage.toFixed(1)} B`);
      rss.sample('100k queued', always);
    }

    let campaign: CampaignResult | undefined;
    if (s.phases.has('campaign')) {
      log('\ncampaign accept: single sends vs batches of 100 vs the NDJSON stream (no dispatcher; messages stay queued):');
      await redis.flushall();
      campaign = await phase('campaign', () =>
        measureCampaign({ ingressUrl: ingress.url, ingressPid: ingress.pid, redisPid, redis, apiKey: API_KEY, connections: s.connections, durationS: s.acceptDurationS, bigMessages: s.campaignMessages, log }),
      );
      rss.sample('campaign', always);
    }
    let cancel: CancelResult | undefined;
    if (s.phases.has('cancel')) {
      log('\ncancel by tag (no dispatcher running, empty Redis):');
      await redis.flushall();
      cancel = await phase('cancel', () => measureCancel({ redis, ingressUrl: ingress.url, count: s.cancelMessages, connections: s.connections, log }));
      await redis.flushall();
    }

    let media: MediaResult | undefined;
    if (s.phases.has('media')) {
      log('\nmedia: a 100 MiB document up and down, through the relay and straight to the simulator:');
      media = await phase('media', () => measureMedia({ ingressUrl: ingress.url, ingressPid: ingress.pid, apiKey: API_KEY, simUrl: simCount.url, simKey: SIM_KEY, rounds: 2, log }));
      rss.sample('media', always);
    }

    const dispatch: DispatchRun[] = [];
    let idle: IdleRun | undefined;
    if (s.phases.has('dispatch')) {
      log('\nidle dispatcher (nothing queued):');
      idle = await phase('idle dispatcher', () => measureIdle({ td, redis, redisUrl: redisServer.url, simUrl: simCount.url, env, windowS: 10, log }));
      log('\ndispatcher throughput (pre-loaded backlog, steady window):');
      for (const [processes, latencyMs] of [[1, 0], [1, 50], [3, 50], [1, 300], [3, 300]] as const) {
        await topUp(redis, ingress.url, s.connections, log, expectedDrain({ processes, latencyMs, concurrency: settings.concurrency, seconds: s.dispatchWarmS + s.dispatchWindowS }));
        dispatch.push(
          await phase(`dispatch k=${processes} ${latencyMs} ms`, () =>
            measureDispatch({ td, processes, latencyMs, redis, redisUrl: redisServer.url, simUrl: simCount.url, env, warmS: s.dispatchWarmS, windowS: s.dispatchWindowS, rss, others: always, pids: { redis: redisPid, sim: simCount.pid }, log }),
          ),
        );
      }
    }

    // The scheduler's cost: one caller at one priority against three callers at three priorities.
    const fairness: DispatchRun[] = [];
    if (s.phases.has('dispatch')) {
      log('\nscheduler cost (CBOT 300 ms, 1 process; one caller and priority vs three of each):');
      for (const [label, callers, priorities] of [
        ['1 caller, normal', ['a'], ['normal']],
        ['3 callers × high/normal/bulk', ['a', 'b', 'c'], ['high', 'normal', 'bulk']],
      ] as const) {
        const prefix = `bench-mix-${callers.length}`;
        await preload(redis, prefix, 30_000, [...callers], [...priorities]);
        fairness.push(
          await phase(`scheduler ${label}`, () =>
            measureDispatch({ td, processes: 1, latencyMs: 300, redis, redisUrl: redisServer.url, simUrl: simCount.url, env, warmS: s.dispatchWarmS, windowS: s.dispatchWindowS, rss, others: always, pids: { redis: redisPid, sim: simCount.pid }, log, prefix, label }),
          ),
        );
      }
    }

    // Sharding: where the outbound Redis work lands on a three-primary cluster, 1 partition vs 12.
    let cluster: ClusterRun[] = [];
    if (s.phases.has('cluster')) {
      log('\nRedis Cluster (3 primaries), CBOT 300 ms, 1 dispatcher: the outbound side in 1 partition, then in 12:');
      cluster = await phase('cluster', () =>
        measureCluster({ td, simUrl: simCount.url, simPid: simCount.pid, env, warmS: s.dispatchWarmS, windowS: s.dispatchWindowS, rss, others: always, messages: 30_000, log }),
      );
    }

    const latency: LatencyRun[] = [];
    if (s.phases.has('latency')) {
      log('\naccept→CBOT latency (open loop, ingress + 1 dispatcher, empty backlog):');
      for (const simLatencyMs of [0, 50]) {
        // Leftover backlog would be sent first and count as latency.
        await redis.flushall();
        latency.push(
          await phase(`latency ${simLatencyMs} ms`, () =>
            measureLatency({ td, ingressUrl: ingress.url, redisUrl: redisServer.url, simUrl: simKeep.url, env, simLatencyMs, ratePerS: TARGETS.acceptToCbotRatePerS, warmS: s.latencyWarmS, durationS: s.latencyDurationS, rss, others: always, pids: { ingress: ingress.pid, redis: redisPid, sim: simKeep.pid }, log }),
          ),
        );
      }
    }
    let replication: ReplicationRun | undefined;
    if (s.phases.has('replication')) {
      log('\nREDIS_WAIT_REPLICAS=1 vs 0 (send API, closed loop, a local primary and one replica):');
      replication = await phase('replication', () =>
        measureReplication({ td, aof: s.aof, simUrl: simCount.url, env, body: (i) => textMessage(i, `R-${i}`), connections: s.connections, rounds: s.acceptRounds, warmS: s.acceptWarmS, durationS: s.acceptDurationS, log }),
      );
    }
    rss.sample('end', always);
    const redisStats = await redisHealth(redis);
    log(`\nRedis over the run: ${JSON.stringify(redisStats)}`);

    const partial = { machine, settings, targets: TARGETS, sendApi, webhook, memory, cancel, campaign, media, idle, dispatch, fairness, cluster, latency, replication, rss: rss.byRole(), interference: phases.interference, redis: redisStats };
    const { rows, verdicts } = tabulate(partial);
    log(`\n${markdownTable(rows)}\n`);
    const failed = Object.entries(verdicts).filter(([, ok]) => !ok).map(([k]) => k);
    log(failed.length ? `targets missed: ${failed.join(', ')}` : 'every target measured was met');
    await writeResults(`${BENCH_DIR}results.json`, { ...partial, verdicts });
    log(`machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, Redis ${machine.redis}; revision ${machine.revision}; wrote bench/results.json in ${((Date.now() - startedAt) / 1000).toFixed(0)} s`);
  } finally {
    await td.run();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
