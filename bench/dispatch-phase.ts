import type { Cluster, Redis } from 'ioredis';
import { Outbound } from '@cbot-relay/records';
import type { Priority } from '@cbot-relay/records';
import { cpuMeter } from './cpu.js';
import { closedLoop } from './load.js';
import { textMessage } from './payloads.js';
import type { EnvFor } from './processes.js';
import { API_KEY, PREFIX, startDispatcher, stopChild } from './processes.js';
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
  /** CPU per message sent over the window, µs: all dispatchers together, Redis, the simulator. */
  cpuUsPerMessage: { dispatchers: number; redis: number; sim: number };
  /** Cores each kind of process kept busy over the window (2 on this machine is everything). */
  coresBusy: { dispatchers: number; redis: number; sim: number };
  /** On a Redis Cluster: each primary's cores busy over the window, in the order of `pids.redis`. */
  redisNodesCoresBusy?: number[];
}

/** Accepted messages not yet sent, failed or expired, as the relay itself counts them. */
export async function backlog(redis: Redis | Cluster, prefix = PREFIX, partitions = 1): Promise<number> {
  return (await new Outbound({ redis, prefix, recordTtlS: 60, partitions }).backlog()).count;
}

/**
 * k dispatcher processes drain the pre-loaded backlog while the bench reads the simulator's accepted
 * counter once a second. The rate is taken over a steady window that starts `warmS` after every
 * process logged "started", and the processes are stopped after it, leaving the rest of the backlog
 * for the next run.
 */
export async function measureDispatch(o: {
  td: Teardown;
  processes: number;
  latencyMs: number;
  redis: Redis | Cluster;
  redisUrl: string;
  simUrl: string;
  env: EnvFor;
  warmS: number;
  windowS: number;
  rss: RssTracker;
  others: Measured[];
  /** `redis`: several pids for a Redis Cluster's primaries (their CPU is summed, and reported per node). */
  pids: { redis: number | number[]; sim: number };
  /** The outbound partitions under `prefix`. */
  partitions?: number;
  log: (line: string) => void;
  /** Another relay prefix than the bench's (a backlog loaded for this run alone). */
  prefix?: string;
  label?: string;
}): Promise<DispatchRun> {
  await setSimLatency(o.simUrl, o.latencyMs);
  const startCounters = await simReceived(o.simUrl);
  const children = await Promise.all(
    Array.from({ length: o.processes }, (_, n) =>
      startDispatcher(o.td, n + 1, o.redisUrl, o.simUrl, o.prefix ? (role) => ({ ...o.env(role), QUEUE_PREFIX: o.prefix! }) : o.env),
    ),
  );
  try {
    await sleep(o.warmS * 1000);
    const samples: { t: number; n: number }[] = [];
    const take = async () => samples.push({ t: performance.now(), n: (await simReceived(o.simUrl)).accepted });
    const redisPids = typeof o.pids.redis === 'number' ? [o.pids.redis] : o.pids.redis;
    const meter = cpuMeter({ ...Object.fromEntries(redisPids.map((pid, i) => [`redis${i}`, pid])), sim: o.pids.sim, ...Object.fromEntries(children.map((c) => [c.role, c.pid])) });
    await take();
    for (let s = 0; s < o.windowS; s++) {
      const next = (samples[0]?.t ?? 0) + (s + 1) * 1000;
      await sleep(Math.max(0, next - performance.now()));
      await take();
    }
    const cpu = meter();
    const redisNodesMs = redisPids.map((_, i) => cpu[`redis${i}`] ?? 0);
    cpu.redis = redisNodesMs.reduce((a, b) => a + b, 0);
    const end = await simReceived(o.simUrl);
    const backlogAfter = await backlog(o.redis, o.prefix, o.partitions);
    o.rss.sample(`dispatch k=${o.processes} ${o.latencyMs} ms`, [...children, ...o.others]);
    const first = samples[0]!;
    const last = samples[samples.length - 1]!;
    const msgsPerS = ((last.n - first.n) * 1000) / (last.t - first.t);
    const perSecond = samples.slice(1).map((s, i) => Math.round(((s.n - samples[i]!.n) * 1000) / (s.t - samples[i]!.t)));
    const sent = Math.max(1, last.n - first.n);
    const windowMs = last.t - first.t;
    const dispatchersMs = children.reduce((sum, c) => sum + (cpu[c.role] ?? 0), 0);
    const cpuUsPerMessage = { dispatchers: (dispatchersMs * 1000) / sent, redis: ((cpu.redis ?? 0) * 1000) / sent, sim: ((cpu.sim ?? 0) * 1000) / sent };
    const coresBusy = { dispatchers: dispatchersMs / windowMs, redis: (cpu.redis ?? 0) / windowMs, sim: (cpu.sim ?? 0) / windowMs };
    const failures: Record<string, number> = {};
    for (const [code, n] of Object.entries(end.failures)) {
      const d = n - (startCounters.failures[code] ?? 0);
      if (d > 0) failures[code] = d;
    }
    o.log(
      `  dispatch${o.label ? ` (${o.label})` : ''} k=${o.processes} at ${o.latencyMs} ms: ${Math.round(msgsPerS)} msg/s (${Math.round(msgsPerS / o.processes)} per process); per second ${perSecond.join(' ')}; ` +
        `CPU µs/msg dispatchers ${Math.round(cpuUsPerMessage.dispatchers)}, redis ${Math.round(cpuUsPerMessage.redis)}, sim ${Math.round(cpuUsPerMessage.sim)} ` +
        `(cores busy ${coresBusy.dispatchers.toFixed(2)}/${coresBusy.redis.toFixed(2)}/${coresBusy.sim.toFixed(2)})` +
        (backlogAfter === 0 ? ' — QUEUE RAN DRY, lower bound' : '') +
        (Object.keys(failures).length ? ` — simulator failures ${JSON.stringify(failures)}` : ''),
    );
    const redisNodesCoresBusy = redisPids.length > 1 ? redisNodesMs.map((ms) => ms / windowMs) : undefined;
    if (redisNodesCoresBusy) o.log(`    Redis primaries' cores busy: ${redisNodesCoresBusy.map((c) => c.toFixed(2)).join(' / ')}`);
    return {
      processes: o.processes,
      latencyMs: o.latencyMs,
      msgsPerS,
      perProcessMsgsPerS: msgsPerS / o.processes,
      perSecond,
      windowS: o.windowS,
      failures,
      backlogAfter,
      cpuUsPerMessage,
      coresBusy,
      ...(redisNodesCoresBusy ? { redisNodesCoresBusy } : {}),
    };
  } finally {
    await Promise.all(children.map((c) => stopChild(c)));
  }
}

/**
 * Messages one run can take off the queue: at most concurrency ÷ CBOT latency per process, and at
 * most ~7,000 msg/s per process; plus ~4 s of draining while the processes start, × 1.3 margin.
 */
export function expectedDrain(o: { processes: number; latencyMs: number; concurrency: number; seconds: number }): number {
  const cap = o.latencyMs > 0 ? (o.concurrency * 1000 * o.processes) / o.latencyMs : Number.POSITIVE_INFINITY;
  return Math.round(Math.min(7_000 * o.processes, cap) * (o.seconds + 4) * 1.3);
}

/** Keeps enough queued that a dispatcher run never drains its lanes dry; tops up through the ingress. */
export async function topUp(redis: Redis, ingressUrl: string, connections: number, log: (line: string) => void, needed: number): Promise<void> {
  const have = await backlog(redis);
  if (have >= needed) return;
  const r = await closedLoop({
    url: ingressUrl,
    path: '/v1/messages',
    headers: { authorization: `Bearer ${API_KEY}` },
    body: (i) => textMessage(i, `D-${i}`),
    connections,
    amount: needed - have,
    timeoutS: 120,
  });
  log(`  (topped the backlog up from ${have} by ${r.ok} messages through the ingress)`);
}

export interface IdleRun {
  /** Share of one core an idle dispatcher used over the window. */
  cores: number;
  /** Redis connections the dispatcher holds. */
  redisConnections: number;
  windowS: number;
}

/**
 * A dispatcher with nothing queued (a prefix of its own): the CPU it burns and the Redis connections
 * it holds while waiting. Sleeping on a wake-up, it makes one Redis call every 5 s.
 */
export async function measureIdle(o: { td: Teardown; redis: Redis; redisUrl: string; simUrl: string; env: EnvFor; windowS: number; log: (line: string) => void }): Promise<IdleRun> {
  const clients = async () => String(await o.redis.call('CLIENT', 'LIST')).split('\n').filter((l) => l.trim() !== '').length;
  const before = await clients();
  const child = await startDispatcher(o.td, 99, o.redisUrl, o.simUrl, (role) => ({ ...o.env(role), QUEUE_PREFIX: 'bench-idle' }));
  try {
    await sleep(2_000);
    const redisConnections = (await clients()) - before;
    const meter = cpuMeter({ idle: child.pid });
    await sleep(o.windowS * 1000);
    const cores = (meter().idle ?? 0) / (o.windowS * 1000);
    o.log(`  idle dispatcher: ${(cores * 100).toFixed(2)} % of a core over ${o.windowS} s, ${redisConnections} Redis connections`);
    return { cores, redisConnections, windowS: o.windowS };
  } finally {
    await stopChild(child);
  }
}

/**
 * A backlog of `count` messages to distinct recipients written straight into Redis under `prefix`
 * (the accept script the ingress runs, without HTTP), from `callers` callers at `priorities`: for
 * comparing the scheduler's cost with one caller at one priority against many of each.
 */
export async function preload(redis: Redis | Cluster, prefix: string, count: number, callers: string[], priorities: Priority[], partitions = 1): Promise<void> {
  const out = new Outbound({ redis, prefix, recordTtlS: 3600, partitions });
  const body = (to: string) => JSON.stringify({ to, type: 'text', text: { body: 'Siparişiniz yola çıktı' } });
  for (let i = 0; i < count; i += 200) {
    await Promise.all(
      Array.from({ length: Math.min(200, count - i) }, (_, j) => {
        const n = i + j;
        const to = `9056${String(n).padStart(8, '0')}`;
        // Shaped as the ingress's ids (partitions stamp the last byte), n in the time part.
        return out.accept({ id: `msg_${n.toString(36).padStart(9, '0')}${'0'.repeat(16)}`, to, type: 'text', caller: callers[n % callers.length]!, priority: priorities[n % priorities.length]!, nowMs: Date.now(), body: body(to) });
      }),
    );
  }
}
