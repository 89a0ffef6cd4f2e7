import { Queue } from 'bullmq';
import { Command } from 'commander';
import type { Priority } from '@cbot-relay/records';
import { QueueNames, queueNameFor } from '@cbot-relay/queues';
import type { CliContext } from './cli-context.js';
import { printJson, printTable } from './output.js';
import type { QueueCounts } from './queue-counts.js';
import { queueCounts } from './queue-counts.js';
import { subscriberStats } from './subscribers-command.js';

export interface QueueStats {
  outbound: {
    /** Open messages (accepted, not yet sent, failed or expired) and their body bytes: what OUTBOUND_BACKLOG_MAX bounds. */
    backlog: { count: number; bytes: number };
    oldestAgeSeconds: number;
    /** Queued, not in flight, per caller and priority. */
    pending: { caller: string; priority: Priority; count: number }[];
  };
  inbound: { queue: string; counts: QueueCounts };
  subscribers: { name: string; queue: string; counts: QueueCounts }[];
}

export async function queueStats(c: CliContext): Promise<QueueStats> {
  const outbound = await c.outbound();
  const name = queueNameFor(QueueNames.inbound, c.config.redis.cluster);
  const inbound = new Queue(name, { connection: await c.redis(), prefix: c.config.queuePrefix });
  inbound.on('error', () => undefined);
  try {
    const [backlog, oldestMs, pending, inboundCounts, subs] = await Promise.all([
      outbound.backlog(),
      outbound.oldestOpenAgeMs(c.io.now()),
      outbound.pending(),
      queueCounts(inbound),
      subscriberStats(c),
    ]);
    return {
      outbound: { backlog, oldestAgeSeconds: oldestMs / 1000, pending: pending.sort((a, b) => b.count - a.count) },
      inbound: { queue: name, counts: inboundCounts },
      subscribers: subs.map((s) => ({ name: s.name, queue: s.queue, counts: s.counts })),
    };
  } finally {
    await inbound.close();
  }
}

export function queuesCommand(ctx: () => CliContext): Command {
  const queues = new Command('queues').description('queue depths, read from Redis');
  queues
    .command('stats')
    .description('outbound backlog, the inbound callback queue and each subscriber queue')
    .option('--json', 'print {"outbound", "inbound", "subscribers"} as JSON')
    .action(async (opts: { json?: boolean }) => {
      const c = ctx();
      const s = await queueStats(c);
      if (opts.json) return printJson(c.io, s);
      const o = s.outbound;
      c.io.stdout.write(
        `outbound: ${o.backlog.count} open (${o.backlog.bytes} body bytes), oldest ${o.oldestAgeSeconds.toFixed(1)} s old\n`,
      );
      if (o.pending.length > 0) {
        c.io.stdout.write('pending by caller and priority:\n');
        printTable(c.io, ['CALLER', 'PRIORITY', 'PENDING'], o.pending.map((p) => [p.caller, p.priority, String(p.count)]));
      }
      c.io.stdout.write('\n');
      const row = (label: string, queue: string, k: QueueCounts) => [
        label,
        queue,
        String(k.waiting + k.prioritized),
        String(k.active),
        String(k.delayed),
        String(k.failed),
        String(k.completed),
      ];
      printTable(
        c.io,
        ['QUEUE', 'NAME', 'WAITING', 'ACTIVE', 'DELAYED', 'FAILED', 'COMPLETED'],
        [row('inbound', s.inbound.queue, s.inbound.counts), ...s.subscribers.map((sub) => row(`subscriber ${sub.name}`, sub.queue, sub.counts))],
      );
    });
  return queues;
}
