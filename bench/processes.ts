import { fileURLToPath, pathToFileURL } from 'node:url';
import { freePort, LocalRedis, RelayProcess } from '@cbot-relay/testing';
import type { Teardown } from './teardown.js';

export const API_KEY = 'bench-key-0123456789';
export const SIM_KEY = 'bench-sim-key';
export const PREFIX = 'bench';
export const CONCURRENCY = 512;

/** A child process the bench measures (RSS) and stops. */
export interface Child {
  role: string;
  pid: number;
  proc: RelayProcess;
}

export interface Started extends Child {
  url: string;
}

/** Extra env for each child by role (ingress, dispatcher, sim, baseline). */
export type EnvFor = (role: string) => Record<string, string>;

const LOOPBACK_ONLY = fileURLToPath(new URL('./loopback-only.mjs', import.meta.url));
const CPU_PROFILE = fileURLToPath(new URL('./cpu-profile.mjs', import.meta.url));

export interface ChildEnvOptions {
  /** Role that writes a V8 CPU profile into `profileDir` when it exits (SIGTERM exits cleanly). */
  profile?: string | undefined;
  profileDir: string;
  /** Extra node flags for relay children (ingress, dispatcher), e.g. --max-semi-space-size=4. */
  relayNodeOptions?: string | undefined;
  /** Extra relay configuration, e.g. DISPATCH_CONCURRENCY=1024, to measure a lever without a code change. */
  relayEnv?: Record<string, string>;
}

/** Every child gets the loopback-only preload; relay children also get the lever overrides. */
export function childEnv(o: ChildEnvOptions): EnvFor {
  return (role) => {
    const relay = role === 'ingress' || role === 'dispatcher';
    const opts = [`--import=${pathToFileURL(LOOPBACK_ONLY).href}`];
    const profiled = o.profile === role;
    if (profiled) opts.push(`--import=${pathToFileURL(CPU_PROFILE).href}`);
    if (relay && o.relayNodeOptions) opts.push(o.relayNodeOptions);
    return {
      NODE_OPTIONS: opts.join(' '),
      ...(profiled ? { BENCH_CPU_PROF_DIR: o.profileDir, BENCH_CPU_PROF_ROLE: role } : {}),
      ...(relay ? o.relayEnv : {}),
    };
  };
}

/**
 * SIGTERM, then SIGKILL after `graceMs`: a relay drains in-flight work on SIGTERM, but the bench must
 * stay bounded in time even if one hangs.
 */
export async function stopChild(c: Child, graceMs = 10_000): Promise<void> {
  const kill = setTimeout(() => void c.proc.stop('SIGKILL'), graceMs);
  await c.proc.stop('SIGTERM');
  clearTimeout(kill);
}

async function startChild(td: Teardown, role: string, opts: Parameters<typeof RelayProcess.start>[0]): Promise<Child> {
  // Relay processes run compiled JavaScript, as the Docker image does (tsx adds 25-45 MB of RSS).
  const compiled = role === 'ingress' || role.startsWith('dispatcher');
  const proc = await RelayProcess.start({ readyTimeoutMs: 60_000, compiled, ...opts });
  if (proc.pid === undefined) throw new Error(`${role}: no pid`);
  const child = { role, pid: proc.pid, proc };
  return td.add(role, child, (c) => stopChild(c));
}

/** AOF as production runs it (appendfsync everysec, README "Durability"), unless BENCH_AOF=off. */
export async function startRedis(td: Teardown, aof: boolean): Promise<LocalRedis> {
  const redis = await LocalRedis.start({ aof });
  return td.add('redis-server', redis, (r) => r.close());
}

/**
 * The simulator as its own process so its event loop never competes with the bench's load generator.
 * `maxRecorded` 1 makes GET /_sim/received (the only counter endpoint) cheap enough to poll.
 */
export async function startSim(td: Teardown, role: string, maxRecorded: number, env: EnvFor): Promise<Started> {
  const port = await freePort();
  const child = await startChild(td, role, {
    entry: 'services/cbot-sim/src/main.ts',
    readyMessage: 'cbot simulator listening',
    env: {
      SIM_HOST: '127.0.0.1',
      SIM_PORT: String(port),
      SIM_API_KEY: SIM_KEY,
      SIM_LATENCY_MS: '0',
      SIM_STATUS_CALLBACKS: 'false',
      SIM_MAX_RECORDED: String(maxRecorded),
      ...env('sim'),
    },
  });
  return { ...child, url: `http://127.0.0.1:${port}/` };
}

function relayEnv(redisUrl: string, simUrl: string): Record<string, string> {
  return {
    REDIS_URL: redisUrl,
    HOST: '127.0.0.1',
    QUEUE_PREFIX: PREFIX,
    DISPATCH_CONCURRENCY: String(CONCURRENCY),
    // Without a CBOT_BASE_URL the relay would start its own simulator on 9090.
    CBOT_BASE_URL: simUrl,
    CBOT_API_KEY: SIM_KEY,
    // Several relays share this host: each takes any free ops port rather than all wanting 9464.
    OPS_PORT: '0',
    // info, not warn: RelayProcess waits for the info-level "cbot-relay started" line; nothing logs per message at info.
    LOG_LEVEL: 'info',
  };
}

export async function startIngress(td: Teardown, redisUrl: string, simUrl: string, env: EnvFor): Promise<Started> {
  const port = await freePort();
  const child = await startChild(td, 'ingress', {
    env: {
      ...relayEnv(redisUrl, simUrl),
      RELAY_ROLES: 'ingress',
      PORT: String(port),
      RELAY_API_KEYS: `bench:${API_KEY}`,
      // The 100k-message memory test and the dispatcher pre-load queue far more than the default bound.
      OUTBOUND_BACKLOG_MAX: '10000000',
      // The per-key limit is counted in Redis for every caller now: keep it on (its Redis call is part of
      // the cost measured) but far above what one bench key sends, so no request is refused.
      API_KEY_RATE_LIMIT: '1000000',
      ...env('ingress'),
    },
  });
  return { ...child, url: `http://127.0.0.1:${port}` };
}

export async function startDispatcher(td: Teardown, n: number, redisUrl: string, simUrl: string, env: EnvFor): Promise<Child> {
  return startChild(td, `dispatcher-${n}`, {
    env: {
      ...relayEnv(redisUrl, simUrl),
      RELAY_ROLES: 'dispatcher',
      // The GCRA gate still runs (one Lua call per send) but never makes anyone wait.
      CBOT_RATE_LIMIT: '1000000',
      ...env('dispatcher'),
    },
  });
}

export async function startBaseline(td: Teardown, redisUrl: string, env: EnvFor): Promise<Started> {
  const port = await freePort();
  const child = await startChild(td, 'naive-baseline', {
    entry: 'bench/naive-baseline.ts',
    readyMessage: 'naive baseline listening',
    env: { REDIS_URL: redisUrl, PORT: String(port), ...env('baseline') },
  });
  return { ...child, url: `http://127.0.0.1:${port}` };
}
