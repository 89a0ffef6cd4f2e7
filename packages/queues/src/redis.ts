import { Cluster, Redis } from 'ioredis';
import type { ClusterOptions, RedisOptions } from 'ioredis';

export type RedisClient = Redis | Cluster;

export interface RedisSettings {
  url: string;
  cluster: boolean;
}

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * BullMQ workers need `maxRetriesPerRequest: null` (commands wait for a reconnect instead of failing).
 * The ingress wants the opposite: a request must fail fast with 503 while Redis is down, so callers
 * retry instead of hanging; it asks for `failFast`.
 */
export function createRedis(settings: RedisSettings, opts: { failFast?: boolean; name?: string } = {}): RedisClient {
  const common: RedisOptions = {
    maxRetriesPerRequest: opts.failFast ? 1 : null,
    enableOfflineQueue: !opts.failFast,
    connectionName: opts.name,
    // Reconnect quickly but not in a hot loop: 50 ms, 100 ms, ... capped at 2 s.
    retryStrategy: (times) => Math.min(times * 50, 2_000),
    // Never keyPrefix: BullMQ builds its own key names.
  };
  if (!settings.cluster) return new Redis(settings.url, common);
  const seed = new URL(settings.url);
  const clusterOpts: ClusterOptions = {
    redisOptions: {
      ...common,
      password: seed.password ? decodeURIComponent(seed.password) : undefined,
      username: seed.username ? decodeURIComponent(seed.username) : undefined,
      tls: seed.protocol === 'rediss:' ? {} : undefined,
    },
    enableOfflineQueue: !opts.failFast,
    clusterRetryStrategy: (times) => Math.min(times * 50, 2_000),
  };
  return new Cluster([{ host: seed.hostname, port: Number(seed.port || 6379) }], clusterOpts);
}

/** `quit` when connected, `disconnect` otherwise; safe to call twice. */
export async function closeRedis(client: RedisClient): Promise<void> {
  if (client.status === 'end') return;
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}
