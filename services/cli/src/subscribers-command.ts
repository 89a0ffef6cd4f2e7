import { randomBytes } from 'node:crypto';
import { Command } from 'commander';
import { createConsumerAcl } from '@cbot-relay/consumer';
import { subscriberQueueName } from '@cbot-relay/fanout';
import type { CliContext } from './cli-context.js';
import { notFound, usageError } from './cli-error.js';
import { printFields, printJson, printTable } from './output.js';
import type { QueueCounts } from './queue-counts.js';
import { depth, queueCounts } from './queue-counts.js';

export interface SubscriberStats {
  name: string;
  kind: 'queue' | 'http';
  types: string[];
  /** Absent: every channel. */
  channels?: string[];
  enabled: boolean;
  /** HTTP subscribers only; the secret is never shown. */
  url?: string;
  queue: string;
  depth: number;
  deadLetters: number;
  counts: QueueCounts;
}

/** Each subscriber with its queue's counts; failed jobs are its dead letters. */
export async function subscriberStats(c: CliContext): Promise<SubscriberStats[]> {
  const queues = await c.subscriberQueues();
  return Promise.all(
    (await c.subscribers()).map(async (s) => {
      const counts = await queueCounts(queues.queue(s));
      return {
        name: s.name,
        kind: s.kind,
        types: [...s.types],
        ...(s.channels === undefined ? {} : { channels: [...s.channels] }),
        enabled: s.enabled !== false,
        ...(s.kind === 'http' ? { url: s.url } : {}),
        queue: subscriberQueueName(s, c.config.redis.cluster),
        depth: depth(counts),
        deadLetters: counts.failed,
        counts,
      };
    }),
  );
}

interface GrantOptions {
  username?: string;
  password?: string;
  json?: boolean;
}

export function subscribersCommand(ctx: () => CliContext): Command {
  const subs = new Command('subscribers').description('downstream subscribers (the subscriber store in Redis)');
  subs
    .command('list')
    .description('list subscribers with their queue depth and dead-letter count')
    .option('--json', 'print {"subscribers": [...]} as JSON')
    .action(async (opts: { json?: boolean }) => {
      const c = ctx();
      const stats = await subscriberStats(c);
      if (opts.json) return printJson(c.io, { subscribers: stats });
      printTable(
        c.io,
        ['NAME', 'KIND', 'TYPES', 'CHANNELS', 'ENABLED', 'QUEUE', 'DEPTH', 'DEAD LETTERS', 'TARGET'],
        stats.map((s) => [
          s.name,
          s.kind,
          s.types.join(','),
          s.channels?.join(',') ?? '*',
          s.enabled ? 'yes' : 'no',
          s.queue,
          String(s.depth),
          String(s.deadLetters),
          s.url ?? '-',
        ]),
      );
    });
  subs
    .command('grant')
    .description('create (or replace) a Redis ACL user that can consume only this queue subscriber\'s events.<name> queue')
    .argument('<name>', 'a queue subscriber')
    .option('--username <user>', 'the Redis user to create', undefined)
    .option('--password <password>', 'its password, 16+ characters (default: a random one, printed once)')
    .option('--json', 'print {"username", "password", "queue", "rules"} as JSON')
    .action(async (name: string, opts: GrantOptions) => {
      const c = ctx();
      const sub = (await c.subscribers()).find((s) => s.name === name);
      if (!sub) throw notFound(`no subscriber ${name}`);
      if (sub.kind !== 'queue') throw usageError(`${name} is an HTTP subscriber: only queue subscribers are consumed from Redis`);
      const username = opts.username ?? `${name}-consumer`;
      const password = opts.password ?? randomBytes(24).toString('base64url');
      let rules: string[];
      try {
        rules = await createConsumerAcl(await c.redis(), { prefix: c.config.queuePrefix, subscriber: name, username, password, cluster: c.config.redis.cluster });
      } catch (err) {
        // The function's own checks (username, password length) are usage errors; Redis refusing ACL is not.
        const message = err instanceof Error ? err.message : String(err);
        if (/^(username|password|subscriber) must/.test(message)) throw usageError(message);
        throw err;
      }
      const queue = subscriberQueueName(sub, c.config.redis.cluster);
      if (opts.json) return printJson(c.io, { username, password, queue, rules });
      printFields(c.io, [
        ['username', username],
        ['password', password],
        ['queue', queue],
        ['rules', rules.join(' ')],
      ]);
      c.io.stdout.write('The consumer connects with redis://<username>:<password>@<host>:<port>; the password is not shown again.\n');
    });
  return subs;
}
