import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { ScriptError, ScriptErrorCode, isReplyError, scriptErrorFrom } from './errors.js';
import { checkHeader, loadLua } from './loader.js';

export type Value = string | number | Buffer;
type LuaCommand = (keys: string[], args: Value[]) => Promise<unknown>;

/**
 * Registers a script with ioredis (`defineCommand`): it sends EVALSHA and falls back to EVAL by
 * itself, per node, so a restarted Redis (empty script cache) or a Cluster node never sees a
 * NOSCRIPT error. The command name is derived from the script, so every client gets it once.
 * `numberOfKeys: 'any'` is for scripts that take a varying number of keys (the batch scripts).
 * Error replies become ScriptErrors (errors.ts); other failures (a lost connection) pass unchanged.
 */
export function luaCommand(redis: Redis | Cluster, script: string, lua: string, numberOfKeys: number | 'any'): LuaCommand {
  const name = `cbotRelay${createHash('sha1').update(lua).digest('hex').slice(0, 12)}`;
  const client = redis as unknown as Record<string, ((...a: Value[]) => Promise<unknown>) | undefined>;
  if (typeof client[name] !== 'function') {
    redis.defineCommand(name, numberOfKeys === 'any' ? { lua } : { numberOfKeys, lua });
  }
  const typed = (err: unknown) => {
    throw isReplyError(err) ? scriptErrorFrom(script, err.message, err) : err;
  };
  return (keys, args) => {
    if (numberOfKeys === 'any') return client[name]!(keys.length, ...keys, ...args).catch(typed);
    if (keys.length !== numberOfKeys) throw new Error(`${script}: expected ${numberOfKeys} keys, got ${keys.length}`);
    return client[name]!(...keys, ...args).catch(typed);
  };
}

export interface ScriptSpec<K extends string, A extends string, R> {
  /** The file, lua/<name>.lua; its header must name the same keys and arguments in the same order. */
  name: string;
  /** Every key the script touches by name, in the order KEYS carries them. */
  keys: readonly K[];
  /** Every argument by name, in the order ARGV carries them. */
  args: readonly A[];
  /** Turns Redis's reply into the script's answer; throws (replyArray, replyString) on a reply of the wrong shape. */
  parse: (reply: unknown) => R;
  /** Values for the file's `{{NAME}}` placeholders. */
  constants?: Readonly<Record<string, string>>;
}

export type Script<K extends string, A extends string, R> = (keys: Record<K, string>, args: Record<A, Value>) => Promise<R>;

/** `local <name> = KEYS[i]` / `ARGV[i]` for each name: the script reads its keys and arguments by name. */
export function namedLocals(keys: readonly string[], args: readonly string[], argOffset = 0): string {
  return [...keys.map((k, i) => `local ${k} = KEYS[${i + 1}]`), ...args.map((a, i) => `local ${a} = ARGV[${i + 1 + argOffset}]`)].join('\n');
}

/**
 * The one way to call a script: lua/<name>.lua with named keys and arguments. The TypeScript side
 * passes objects (a missing or misspelled name does not compile), the Lua side reads locals of the
 * same names (numbers arrive as strings), the names are checked against the file's header when the
 * script is defined, and the reply goes through `parse` instead of a cast.
 *
 * @example
 * const pause = defineScript(redis, { name: 'pause', keys: ['pause'], args: ['ms'], parse: () => undefined });
 * await pause({ pause: keys.channel('default').gatePause }, { ms: 1000 });
 */
export function defineScript<K extends string, A extends string, R>(redis: Redis | Cluster, spec: ScriptSpec<K, A, R>): Script<K, A, R> {
  const src = loadLua(spec.name, spec.constants);
  checkHeader(spec.name, 'KEYS', spec.keys, src.header.keys);
  checkHeader(spec.name, 'ARGV', spec.args, src.header.args);
  const run = luaCommand(redis, spec.name, `${namedLocals(spec.keys, spec.args)}\n${src.includes}\n${src.body}`, spec.keys.length);
  return async (keys, args) => spec.parse(await run(spec.keys.map((k) => keys[k]), spec.args.map((a) => args[a])));
}

/** For `parse`: the reply as an array, or a BAD_REPLY error naming the script. */
export function replyArray(reply: unknown, script: string): unknown[] {
  if (!Array.isArray(reply)) throw new ScriptError(script, ScriptErrorCode.BadReply, `unexpected reply from Redis: ${typeof reply}`);
  return reply;
}

/** For `parse`: a reply cell as a string (Redis answers numbers as integers, bulk strings as strings). */
export function replyString(cell: unknown, script: string): string {
  if (typeof cell === 'string') return cell;
  if (typeof cell === 'number') return String(cell);
  if (Buffer.isBuffer(cell)) return cell.toString('utf8');
  throw new ScriptError(script, ScriptErrorCode.BadReply, `unexpected reply cell from Redis: ${typeof cell}`);
}

/** For `parse`: an integer reply. */
export function replyInteger(reply: unknown, script: string): number {
  if (typeof reply !== 'number') throw new ScriptError(script, ScriptErrorCode.BadReply, `unexpected reply from Redis: ${typeof reply}`);
  return reply;
}

/** For `parse`: a reply cell that must be one of `allowed`. */
export function replyOneOf<T extends string>(cell: unknown, allowed: readonly T[], script: string): T {
  const s = replyString(cell, script);
  if (!(allowed as readonly string[]).includes(s)) throw new ScriptError(script, ScriptErrorCode.BadReply, `unexpected answer ${s}`);
  return s as T;
}
