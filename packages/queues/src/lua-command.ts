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

type Value = string | number | Buffer;

export interface ScriptSpec<K extends string, A extends string, R> {
  /** Every key the script touches by name, in the order KEYS carries them. */
  keys: readonly K[];
  /** Every argument by name, in the order ARGV carries them. */
  args: readonly A[];
  /** The body: each key and argument is a Lua local of its own name (numbers arrive as strings). */
  lua: string;
  /** Turns Redis's reply into the script's answer; throws on a reply of the wrong shape. */
  parse: (reply: unknown) => R;
}

export type Script<K extends string, A extends string, R> = (keys: Record<K, string>, args: Record<A, Value>) => Promise<R>;

/**
 * A Lua script with named keys and arguments: the TypeScript side passes objects (a missing or
 * misspelled name does not compile), the Lua side reads locals of the same names, and the reply goes
 * through `parse` instead of a cast.
 */
export function defineScript<K extends string, A extends string, R>(redis: Redis | Cluster, spec: ScriptSpec<K, A, R>): Script<K, A, R> {
  const header = [
    ...spec.keys.map((k, i) => `local ${k} = KEYS[${i + 1}]`),
    ...spec.args.map((a, i) => `local ${a} = ARGV[${i + 1}]`),
  ].join('\n');
  const run = luaCommand(redis, `${header}\n${spec.lua}`, spec.keys.length);
  return async (keys, args) => spec.parse(await run(spec.keys.map((k) => keys[k]), spec.args.map((a) => args[a])));
}

/** For `parse`: the reply as an array, or an error naming what was expected. */
export function replyArray(reply: unknown, what: string): unknown[] {
  if (!Array.isArray(reply)) throw new Error(`${what}: unexpected reply from Redis: ${typeof reply}`);
  return reply;
}

/** For `parse`: a reply cell as a string (Redis answers numbers as integers, bulk strings as strings). */
export function replyString(cell: unknown, what: string): string {
  if (typeof cell === 'string') return cell;
  if (typeof cell === 'number') return String(cell);
  if (Buffer.isBuffer(cell)) return cell.toString('utf8');
  throw new Error(`${what}: unexpected reply cell from Redis: ${typeof cell}`);
}
