export const PHASES = ['accept', 'webhook', 'memory', 'cancel', 'media', 'dispatch', 'cluster', 'latency', 'replication', 'campaign'] as const;
export type Phase = (typeof PHASES)[number];

/**
 * Knobs for measuring levers without editing the relay (all optional; `pnpm bench` needs none):
 * BENCH_PHASES=accept,dispatch   run only these phases (BENCH_PHASES=media: the media transfers alone)
 * BENCH_CAMPAIGN_MESSAGES=1000000 the campaign phase's big stream (default 200 000; the 1 M time is extrapolated)
 * BENCH_AOF=off                  Redis without AOF (default on, as production runs it)
 * BENCH_REDIS_CONFIG="k v;k v"   CONFIG SET on the bench Redis before measuring
 * BENCH_RELAY_<VAR>=value        <VAR>=value for relay children (e.g. BENCH_RELAY_DISPATCH_CONCURRENCY=1024)
 * BENCH_NODE_OPTIONS="…"         node flags for relay children (default: the Docker image's NODE_OPTIONS)
 * BENCH_CPU_PROF=ingress         write a V8 CPU profile of that role into bench/profiles/
 * BENCH_CONNECTIONS=50           closed-loop connections
 */
export interface Settings {
  phases: Set<Phase>;
  aof: boolean;
  redisConfig: [string, string][];
  relayEnv: Record<string, string>;
  relayNodeOptions: string | undefined;
  cpuProfile: string | undefined;
  connections: number;
  acceptRounds: number;
  acceptWarmS: number;
  acceptDurationS: number;
  memoryMessages: number;
  /** The memory phase's campaign through its life (distinct recipients, through the store code). */
  lifecycleMessages: number;
  campaignMessages: number;
  cancelMessages: number;
  dispatchWarmS: number;
  dispatchWindowS: number;
  latencyWarmS: number;
  latencyDurationS: number;
}

export function readSettings(env: NodeJS.ProcessEnv): Settings {
  const phases = new Set<Phase>();
  for (const p of (env.BENCH_PHASES || PHASES.join(',')).split(',')) {
    const name = p.trim() as Phase;
    if (!PHASES.includes(name)) throw new Error(`BENCH_PHASES: unknown phase "${p}" (phases: ${PHASES.join(', ')})`);
    phases.add(name);
  }
  const redisConfig = (env.BENCH_REDIS_CONFIG ?? '')
    .split(';')
    .map((kv) => kv.trim())
    .filter(Boolean)
    .map((kv): [string, string] => {
      const at = kv.indexOf(' ');
      if (at < 1) throw new Error(`BENCH_REDIS_CONFIG: expected "name value", got "${kv}"`);
      return [kv.slice(0, at), kv.slice(at + 1).trim()];
    });
  const relayEnv = Object.fromEntries(
    Object.entries(env)
      .filter(([k, v]) => k.startsWith('BENCH_RELAY_') && v !== undefined)
      .map(([k, v]) => [k.slice('BENCH_RELAY_'.length), v as string]),
  );
  const connections = Number(env.BENCH_CONNECTIONS ?? 50);
  if (!Number.isInteger(connections) || connections < 1 || connections > 1000) throw new Error('BENCH_CONNECTIONS: expected 1 to 1000');
  return {
    phases,
    aof: (env.BENCH_AOF ?? 'on') !== 'off',
    redisConfig,
    relayEnv,
    // The same heap cap as the Docker image (Dockerfile NODE_OPTIONS), so RSS is measured as deployed.
    relayNodeOptions: env.BENCH_NODE_OPTIONS ?? '--max-old-space-size=96 --max-semi-space-size=8',
    cpuProfile: env.BENCH_CPU_PROF || undefined,
    connections,
    acceptRounds: 2,
    acceptWarmS: 2,
    acceptDurationS: 8,
    memoryMessages: 100_000,
    lifecycleMessages: 20_000,
    campaignMessages: Number(env.BENCH_CAMPAIGN_MESSAGES ?? 200_000),
    cancelMessages: 100_000,
    dispatchWarmS: 2,
    dispatchWindowS: 8,
    latencyWarmS: 1,
    latencyDurationS: 10,
  };
}
