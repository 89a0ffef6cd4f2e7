import type { Cluster, Redis } from 'ioredis';

export interface ConsumerAclOptions {
  /** The relay's QUEUE_PREFIX. */
  prefix: string;
  /** The queue subscriber's name: the user may use `events.<subscriber>` and nothing else. */
  subscriber: string;
  username: string;
  /** At least 16 characters; Redis keeps only its SHA-256. */
  password: string;
  /** The relay runs on Redis Cluster: the queue is `{events.<subscriber>}`, and every node gets the user. */
  cluster?: boolean;
}

const NAME = /^[A-Za-z0-9_-]{1,64}$/;
const USERNAME = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * What a BullMQ 6 Worker (and so `createConsumer`) runs: its Lua scripts (EVALSHA, EVAL on a script
 * cache miss), the data commands those scripts call — Redis checks each command a script runs against
 * the caller's ACL, keys included — and those it sends itself: BZPOPMIN on the queue's marker and
 * reads of job hashes (in `@write`/`@read`), INFO (the Redis version and maxmemory policy, `@dangerous`
 * so granted by name), CLIENT SETNAME. `@read`/`@write` less `@dangerous`, on the queue's keys only;
 * nothing else: no other key pattern, no Pub/Sub channel, no KEYS/SCAN/FLUSH/CONFIG/ACL/DEBUG.
 */
const COMMANDS = [
  '-@all',
  '+@read',
  '+@write',
  '-@dangerous',
  '+evalsha',
  '+eval',
  '+script|load',
  '+script|exists',
  '+info',
  '+ping',
  '+hello',
  '+client|setname',
  '+client|getname',
  '+client|id',
];

/** Escapes Redis glob specials, so a prefix is matched literally. */
function literal(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/**
 * The ACL rules (for `ACL SETUSER <username> …`) of a user that can consume only the queue
 * subscription `events.<subscriber>`: its keys (`<prefix>:events.<subscriber>:*`) and no others.
 */
export function consumerAclRules(opts: ConsumerAclOptions): string[] {
  if (!NAME.test(opts.subscriber)) throw new Error('subscriber must match ^[A-Za-z0-9_-]{1,64}$');
  if (!USERNAME.test(opts.username) || opts.username === 'default') throw new Error('username must match ^[A-Za-z0-9_.-]{1,64}$ and not be "default"');
  if (opts.password.length < 16 || /\s/.test(opts.password)) throw new Error('password must be 16+ characters without whitespace');
  const queue = opts.cluster ? `{events.${opts.subscriber}}` : `events.${opts.subscriber}`;
  return ['reset', 'on', `>${opts.password}`, `~${literal(opts.prefix)}:${literal(queue)}:*`, 'resetchannels', ...COMMANDS];
}

/**
 * Creates (or replaces) a Redis ACL user that can consume only its own queue subscription with
 * `@cbot-relay/consumer` and is refused every other queue and the relay's own keys. Runs with the
 * relay's (admin) connection; on a Cluster, on every node. Returns the rules, password masked.
 * The CLI's `cbot-relay subscribers grant <name>` is this function.
 */
export async function createConsumerAcl(redis: Redis | Cluster, opts: ConsumerAclOptions): Promise<string[]> {
  const rules = consumerAclRules(opts);
  const nodes = 'nodes' in redis && typeof redis.nodes === 'function' && opts.cluster ? (redis as Cluster).nodes('all') : [redis as Redis];
  for (const node of nodes) await node.call('ACL', 'SETUSER', opts.username, ...rules);
  return rules.map((r) => (r.startsWith('>') ? '>***' : r));
}
