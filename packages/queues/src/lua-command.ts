import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

export type LuaCommand = (keys: string[], args: (string | number | Buffer)[]) => Promise<unknown>;

/**
 * Registers a script with ioredis (`defineCommand`): it sends EVALSHA and falls back to EVAL by
 * itself, per node, so a restarted Redis (empty script cache) or a Cluster node never sees a
 * NOSCRIPT error. The command name is derived from the script, so every client gets it once.
 * `numberOfKeys: 'any'` is for scripts that take a varying number of keys (the batch scripts).
 */
export function luaCommand(redis: Redis | Cluster, lua: string, numberOfKeys: number | 'any'): LuaCommand {
  const name = `cbotRelay${createHash('sha1').update(lua).digest('hex').slice(0, 12)}`;
  const client = redis as unknown as Record<string, ((...a: (string | number | Buffer)[]) => Promise<unknown>) | undefined>;
  if (typeof client[name] !== 'function') {
    redis.defineCommand(name, numberOfKeys === 'any' ? { lua } : { numberOfKeys, lua });
  }
  return (keys, args) => {
    if (numberOfKeys === 'any') return client[name]!(keys.length, ...keys, ...args);
    if (keys.length !== numberOfKeys) throw new Error(`${name}: expected ${numberOfKeys} keys, got ${keys.length}`);
    return client[name]!(...keys, ...args);
  };
}
