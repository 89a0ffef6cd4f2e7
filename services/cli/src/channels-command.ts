import { Command, InvalidArgumentError } from 'commander';
import { CHANNEL_PAUSE_MAX_S, channelView } from '@cbot-relay/api';
import type { ChannelView } from '@cbot-relay/api';
import { channelsOf } from '@cbot-relay/config';
import { channelEvent } from '@cbot-relay/messages';
import { QueueNames, RelayEvents, queueNameFor } from '@cbot-relay/queues';
import type { ChannelGateState, GateChange } from '@cbot-relay/records';
import type { CliContext } from './cli-context.js';
import { printJson, printTable } from './output.js';

/** Every configured channel with its gate, backlog and number quality, as GET /v1/channels shows them. */
export async function channelViews(c: CliContext): Promise<ChannelView[]> {
  const outbound = await c.outbound();
  const now = Date.now();
  const all = channelsOf(c.config);
  const [queued, qualities, states] = await Promise.all([outbound.queuedByChannel(), outbound.qualities(), Promise.all(all.map((ch) => outbound.gateState(ch.id, now)))]);
  return all.map((ch, i) => channelView({ id: ch.id, api: ch.api, rateLimit: ch.rateLimitPerSecond }, states[i]!, queued[ch.id] ?? 0, qualities[ch.id]));
}

/** Changes a channel's gate as POST /v1/channels/{id}/pause|resume does, event included. */
async function change(c: CliContext, id: string, step: GateChange): Promise<ChannelView> {
  const ch = c.channel(id);
  const outbound = await c.outbound();
  const now = Date.now();
  const { changed, state } = await outbound.changeGate(ch.id, step, now, c.config.dispatch.qualityPauseMs);
  if (changed) await emit(c, ch.id, state, now);
  return (await channelViews(c)).find((v) => v.id === ch.id)!;
}

async function emit(c: CliContext, channel: string, state: ChannelGateState, now: number): Promise<void> {
  const { Queue } = await import('bullmq');
  const queue = new Queue(queueNameFor(QueueNames.inbound, c.config.redis.cluster), { connection: await c.redis(), prefix: c.config.queuePrefix });
  queue.on('error', () => undefined);
  try {
    await new RelayEvents(queue).emit(channelEvent(channel, state, now), now);
  } finally {
    await queue.close();
  }
}

function seconds(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > CHANNEL_PAUSE_MAX_S) throw new InvalidArgumentError(`seconds: a whole number from 1 to ${CHANNEL_PAUSE_MAX_S}`);
  return n;
}

function print(c: CliContext, views: ChannelView[], json: boolean | undefined): void {
  if (json) return printJson(c.io, { channels: views });
  printTable(
    c.io,
    ['ID', 'API', 'STATE', 'REASON', 'CODE', 'UNTIL', 'RATE', 'BACKLOG', 'QUALITY'],
    views.map((v) => [v.id, v.api, v.state, v.reason ?? '-', v.code === null ? '-' : String(v.code), v.until ?? (v.state === 'active' ? '-' : 'resume'), String(v.rateLimit), String(v.backlog), v.quality]),
  );
}

export function channelsCommand(ctx: () => CliContext): Command {
  const cmd = new Command('channels').description('CBOT channels (numbers): state, backlog and quality; pause and resume sending');
  cmd
    .command('list')
    .description('each channel: active, paused or stopped (and why, until when), backlog, number quality')
    .option('--json', 'print {"channels": [...]} as JSON')
    .action(async (opts: { json?: boolean }) => {
      const c = ctx();
      print(c, await channelViews(c), opts.json);
    });
  cmd
    .command('pause')
    .description('hold sending on a channel: for --seconds, or until `channels resume` (a stopped channel stays stopped)')
    .argument('<id>', 'the channel')
    .option('--seconds <n>', `how long (1 to ${CHANNEL_PAUSE_MAX_S}); default: until resumed`, seconds)
    .option('--json', 'print the channel as JSON')
    .action(async (id: string, opts: { seconds?: number; json?: boolean }) => {
      const c = ctx();
      print(c, [await change(c, id, opts.seconds === undefined ? { action: 'pause' } : { action: 'pause', ms: opts.seconds * 1000 })], opts.json);
    });
  cmd
    .command('resume')
    .description('clear a pause or a stop (368 / 131031): the waiting messages go, in their order')
    .argument('<id>', 'the channel')
    .option('--json', 'print the channel as JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const c = ctx();
      print(c, [await change(c, id, { action: 'resume' })], opts.json);
    });
  return cmd;
}
