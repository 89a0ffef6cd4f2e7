import { mkdir } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { compareAccept } from './accept-phase.js';
import type { DispatchRun } from './dispatch-phase.js';
import { backlog, measureDispatch } from './dispatch-phase.js';
import { closedLoop } from './load.js';
import type { LatencyRun } from './latency-phase.js';
import { measureLatency } from './latency-phase.js';
import { machineInfo } from './machine.js';
import { measureMemory } from './memory-phase.js';
import { statusCallback, textMessage } from './payloads.js';
import { API_KEY, LANES, childEnv, startBaseline, startIngress, startRedis, startSim } from './processes.js';
import { markdownTable, tabulate, TARGETS, writeResults } from './report.js';
import type { Measured } from './rss.js';
import { RssTracker } from './rss.js';
import { Teardown } from './teardown.js';

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
/** The whole run must stay well under ~6 min; past this everything is stopped. */
const DEADLINE_MS = 8 * 60_000;
const CONNECTIONS = 50;

const log = (line: string) => console.log(line);

async function main(): Promise<void> {
  const started = Date.now();
  const load1 = loadavg()[0] ?? 0;
  const aof = (process.env.BENCH_AOF ?? 'on') !== 'off';
  const profile = process.env.BENCH_CPU_PROF || undefined;
  const profileDir = `${BENCH_DIR}profiles`;
  if (profile) await mkdir(profileDir, { recursive: true });
  const env = childEnv(profile, profileDir);
  const settings = { aof, connections: CONNECTIONS, lanes: LANES, acceptRounds: 2, acceptWarmS: 2, acceptDurationS: 8, memoryMessages: 100_000, dispatchWarmS: 2, dispatchWindowS: 8, latencyWarmS: 1, latencyDurationS: 10, cpuProfile: profile ?? null };

  const td = new Teardown();
  td.installSignalHandlers(DEADLINE_MS);
  try {
    log(`cbot-relay bench: Redis AOF ${aof ? 'on (appendfsync everysec, as in production)' : 'off'}, ${CONNECTIONS} keep-alive connections, load average ${load1.toFixed(2)}`);
    const redisServer = await startRedis(td, aof);
    const redis = td.add('bench redis client', new Redis(redisServer.url, { maxRetriesPerRequest: 3 }), async (r) => r.disconnect());
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
    log(`started redis-server, 2 simulators, ingress, naive baseline in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);

    const auth = { authorization: `Bearer ${API_KEY}` };
    const acceptOpts = { connections: CONNECTIONS, rounds: settings.acceptRounds, warmS: settings.acceptWarmS, durationS: settings.acceptDurationS, log };
    log('ingress accept throughput (closed loop, relay and baseline alternate):');
    const sendApi = await compareAccept({
      ...acceptOpts,
      path: '/v1/messages',
      body: (i) => textMessage(i, `A-${i}`),
      targets: [
        { name: 'relay', url: ingress.url, headers: auth },
        { name: 'baseline', url: baseline.url, headers: {} },
      ],
    });
    rss.sample('send API accept', always);
    const webhook = await compareAccept({
      ...acceptOpts,
      path: '/webhooks/cbot',
      body: statusCallback,
      targets: [
        { name: 'relay', url: ingress.url, headers: {} },
        { name: 'baseline', url: baseline.url, headers: {} },
      ],
    });
    rss.sample('webhook accept', always);

    log('\nRedis bytes per queued message (no dispatcher running, empty Redis):');
    await redis.flushall();
    const memory = await measureMemory({ redis, ingressUrl: ingress.url, count: settings.memoryMessages, connections: CONNECTIONS, log });
    rss.sample('100k queued', always);

    log('\ndispatcher throughput (pre-loaded lanes, steady window):');
    const dispatch: DispatchRun[] = [];
    for (const [processes, latencyMs] of [[1, 0], [1, 50], [2, 50], [3, 50]] as const) {
      await topUp(redis, ingress.url, expectedDrain(dispatch, processes, settings.dispatchWarmS + settings.dispatchWindowS));
      dispatch.push(
        await measureDispatch({ td, processes, latencyMs, redis, redisUrl: redisServer.url, simUrl: simCount.url, env, warmS: settings.dispatchWarmS, windowS: settings.dispatchWindowS, rss, others: always, log }),
      );
    }

    log('\naccept→CBOT latency (open loop, ingress + 1 dispatcher, empty lanes):');
    await redis.flushall();
    const latency: LatencyRun[] = [];
    for (const simLatencyMs of [0, 50]) {
      latency.push(
        await measureLatency({ td, ingressUrl: ingress.url, redisUrl: redisServer.url, simUrl: simKeep.url, env, simLatencyMs, ratePerS: TARGETS.acceptToCbotRatePerS, warmS: settings.latencyWarmS, durationS: settings.latencyDurationS, rss, others: always, log }),
      );
      await redis.flushall();
    }
    rss.sample('end', always);

    const partial = { machine, settings, targets: TARGETS, sendApi, webhook, memory, dispatch, latency, rss: rss.byRole() };
    const { rows, verdicts } = tabulate(partial);
    log(`\n${markdownTable(rows)}\n`);
    const failed = Object.entries(verdicts).filter(([, ok]) => !ok).map(([k]) => k);
    log(failed.length ? `targets missed: ${failed.join(', ')}` : 'every target met');
    await writeResults(`${BENCH_DIR}results.json`, { ...partial, verdicts });
    log(`machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, Redis ${machine.redis}; wrote bench/results.json in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    await td.run();
  }
}

/** Messages one run will take off the queue, from what the previous run measured, with margin. */
function expectedDrain(previous: DispatchRun[], processes: number, seconds: number): number {
  const perProcess = Math.max(1_500, ...previous.map((d) => d.perProcessMsgsPerS));
  // + ~4 s of draining while the processes start, × 1.3 margin.
  return Math.round(perProcess * processes * (seconds + 4) * 1.3);
}

/** Keeps enough queued that a dispatcher run never drains its lanes dry; tops up through the ingress. */
async function topUp(redis: Redis, ingressUrl: string, needed: number): Promise<void> {
  const have = await backlog(redis);
  if (have >= needed) return;
  const r = await closedLoop({
    url: ingressUrl,
    path: '/v1/messages',
    headers: { authorization: `Bearer ${API_KEY}` },
    body: (i) => textMessage(i, `D-${i}`),
    connections: CONNECTIONS,
    amount: needed - have,
    timeoutS: 120,
  });
  log(`  (topped the backlog up from ${have} by ${r.ok} messages through the ingress)`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
