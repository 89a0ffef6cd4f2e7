import { Command } from 'commander';
import { subscriberQueueName } from '@cbot-relay/fanout';
import type { CliContext } from './cli-context.js';
import { printJson, printTable } from './output.js';
import type { QueueCounts } from './queue-counts.js';
import { depth, queueCounts } from './queue-counts.js';

export interface SubscriberStats {
  name: string;
  kind: 'queue' | 'http';
  types: string[];
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
    c.subscribers().map(async (s) => {
      const counts = await queueCounts(queues.queue(s));
      return {
        name: s.name,
        kind: s.kind,
        types: [...s.types],
        ...(s.kind === 'http' ? { url: s.url } : {}),
        queue: subscriberQueueName(s, c.config.redis.cluster),
        depth: depth(counts),
        deadLetters: counts.failed,
        counts,
      };
    }),
  );
}

export function subscribersCommand(ctx: () => CliContext): Command {
  const subs = new Command('subscribers').description('downstream subscribers (SUBSCRIPTIONS_FILE)');
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
        ['NAME', 'KIND', 'TYPES', 'QUEUE', 'DEPTH', 'DEAD LETTERS', 'TARGET'],
        stats.map((s) => [s.name, s.kind, s.types.join(','), s.queue, String(s.depth), String(s.deadLetters), s.url ?? '-']),
      );
    });
  return subs;
}
