import { Command, Option } from 'commander';
import type { EventDeadLetter } from '@cbot-relay/fanout';
import type { MessageRecord } from '@cbot-relay/records';
import type { CliContext } from './cli-context.js';
import { usageError } from './cli-error.js';
import { messageView } from './messages-command.js';
import { printJson, printTable } from './output.js';
import { intIn, parseSince } from './parse-time.js';
import { replayAll, replayIds } from './replay.js';

type Kind = 'messages' | 'events' | 'all';
const MESSAGE_PAGE = 500;

/** A dead letter as `GET /v1/dead-letters` lists it: a failed message record, or a failed subscriber delivery. */
export type DeadLetterItem = ({ kind: 'message' } & Omit<MessageRecord, 'caller'>) | EventDeadLetter;

const kindOption = () =>
  new Option('--kind <kind>', 'messages (failed sends) or events (failed subscriber deliveries)').choices(['messages', 'events', 'all']).default('all');

export function deadLettersCommand(ctx: () => CliContext): Command {
  const dl = new Command('dead-letters').description('failed messages and failed subscriber deliveries, read and replayed in Redis');

  dl.command('list')
    .description('list dead letters, newest first')
    .addOption(kindOption())
    .option('--since <time>', 'only those that failed at or after this ISO 8601 time or this long ago (15m, 2h, 7d)')
    .option('--limit <n>', 'at most this many (1-10000)', intIn(1, 10_000), 100)
    .option('--json', 'print {"items": [...]} as GET /v1/dead-letters does')
    .action(async (opts: { kind: Kind; since?: string; limit: number; json?: boolean }) => {
      const c = ctx();
      const sinceMs = opts.since === undefined ? undefined : parseSinceOption(opts.since, c.io.now());
      const items = await listDeadLetters(c, opts.kind, sinceMs, opts.limit);
      if (opts.json) return printJson(c.io, { items });
      printTable(
        c.io,
        ['KIND', 'ID', 'FAILED AT', 'WHAT', 'WHY'],
        items.map((i) =>
          i.kind === 'message'
            ? ['message', i.id, i.updatedAt, `${i.type} to ${i.to}`, messageReason(i)]
            : ['event', i.id, i.failedAt ?? '-', `${i.type} for ${i.subscriber}`, `${i.failedReason} (${i.attemptsMade} attempts)`],
        ),
      );
    });

  dl.command('replay')
    .description('put dead letters back to be sent or delivered again; repeating it is safe (what was replayed is no longer failed)')
    .argument('[ids...]', 'dead letter ids: msg_… (a message) or evt_….<subscriber> (a subscriber delivery)')
    .option('--all', 'replay every dead letter (of --kind, failed since --since)')
    .addOption(kindOption())
    .option('--since <time>', 'with --all: only those that failed at or after this ISO 8601 time or this long ago (15m, 2h, 7d)')
    .option('--limit <n>', 'with --all: at most this many per kind and run (1-100000); the summary says when more remain', intIn(1, 100_000), 10_000)
    .option('--json', 'print the counts (and each id with its result) as JSON')
    .action(async (ids: string[], opts: { all?: boolean; kind: Kind; since?: string; limit: number; json?: boolean }, cmd: Command) => {
      const c = ctx();
      if (opts.all && ids.length > 0) throw usageError('give dead letter ids or --all, not both');
      if (!opts.all && ids.length === 0) throw usageError('give dead letter ids, or --all');
      const explicit = (name: string) => cmd.getOptionValueSource(name) === 'cli';
      if (!opts.all && (opts.since !== undefined || explicit('kind') || explicit('limit'))) {
        throw usageError('--since, --kind and --limit go with --all');
      }
      const report = opts.all
        ? await replayAll(c, opts.kind, opts.since === undefined ? undefined : parseSinceOption(opts.since, c.io.now()), opts.limit)
        : await replayIds(c, ids, { verbose: !opts.json });
      if (opts.json) printJson(c.io, report);
      else c.io.stdout.write(`${report.summary}\n`);
      c.exitCode = report.exitCode;
    });

  return dl;
}

export function parseSinceOption(value: string, nowMs: number, option = '--since'): number {
  try {
    return parseSince(value, nowMs);
  } catch (err) {
    throw usageError(`${option}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Both kinds merged newest first, at most `limit`, each failed at or after `sinceMs`. */
export async function listDeadLetters(c: CliContext, kind: Kind, sinceMs: number | undefined, limit: number): Promise<DeadLetterItem[]> {
  const items: { at: number; item: DeadLetterItem }[] = [];
  if (kind !== 'events') {
    const store = await c.store();
    let before: number | undefined;
    let n = 0;
    pages: for (;;) {
      const page = await store.deadLetters(Math.min(MESSAGE_PAGE, limit), before);
      for (const rec of page.records) {
        const at = Date.parse(rec.updatedAt);
        if ((sinceMs !== undefined && at < sinceMs) || n === limit) break pages;
        items.push({ at, item: { kind: 'message', ...messageView(rec) } });
        n += 1;
      }
      if (page.next === undefined) break;
      before = page.next;
    }
  }
  if (kind !== 'messages') {
    const events = await (await c.eventDeadLetters()).list(limit);
    for (const e of events) {
      const at = e.failedAt === null ? 0 : Date.parse(e.failedAt);
      if (sinceMs === undefined || at >= sinceMs) items.push({ at, item: e });
    }
  }
  return items
    .sort((a, b) => b.at - a.at)
    .slice(0, limit)
    .map((i) => i.item);
}

function messageReason(rec: Omit<MessageRecord, 'caller'>): string {
  const last = rec.attempts.at(-1);
  if (rec.error !== undefined) {
    const e = rec.error as { code?: unknown; title?: unknown; message?: unknown } | null;
    if (e && typeof e === 'object') return [e.code, e.title ?? e.message].filter((x) => x !== undefined).join(' ');
    return String(rec.error);
  }
  return last?.error ?? last?.outcome ?? '';
}
