import { Command } from 'commander';
import { normalizeRecipient } from '@cbot-relay/messages';
import { decodeCursor, encodeCursor } from '@cbot-relay/records';
import type { ListQuery, MessageRecord } from '@cbot-relay/records';
import type { CliContext } from './cli-context.js';
import { failed, notFound, usageError } from './cli-error.js';
import { parseSinceOption } from './dead-letters-command.js';
import { printFields, printJson, printTable } from './output.js';
import { intIn } from './parse-time.js';

/** The record as `GET /v1/messages/{id}` shows it: every field but the caller. */
export function messageView(rec: MessageRecord): Omit<MessageRecord, 'caller'> {
  const { caller: _caller, ...view } = rec;
  return view;
}

interface ListOptions {
  caller?: string;
  to?: string;
  status?: string;
  tag?: string;
  since?: string;
  until?: string;
  limit: number;
  cursor?: string;
  json?: boolean;
}

/** `messages get <id>` and `messages list` (the filters of `GET /v1/messages`, every caller unless --caller). */
export function messagesCommand(ctx: () => CliContext): Command {
  const messages = new Command('messages').description('message records, read from Redis');
  messages
    .command('get')
    .description('show one message as GET /v1/messages/{id} does (exit 3 when there is none)')
    .argument('<id>', 'relay message id (msg_…)')
    .option('--json', 'print the record as JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const c = ctx();
      const rec = await (await c.store()).get(id);
      if (!rec) throw notFound(`no message ${id}`);
      if (opts.json) return printJson(c.io, messageView(rec));
      printFields(c.io, [
        ['id', rec.id],
        ['status', rec.status],
        ['to', rec.to],
        ['type', rec.type],
        ['priority', rec.priority],
        ['cbotMessageId', rec.cbotMessageId ?? '-'],
        ['createdAt', rec.createdAt],
        ['updatedAt', rec.updatedAt],
        ...(rec.expiresAt === undefined ? [] : ([['expiresAt', rec.expiresAt]] as [string, string][])),
        ...(rec.error === undefined ? [] : ([['error', JSON.stringify(rec.error)]] as [string, string][])),
      ]);
      c.io.stdout.write('attempts:\n');
      printTable(
        c.io,
        ['AT', 'OUTCOME', 'HTTP', 'ERROR'],
        rec.attempts.map((a) => [a.at, a.outcome, a.httpStatus === undefined ? '-' : String(a.httpStatus), a.error ?? '']),
      );
    });
  messages
    .command('list')
    .description('list messages newest first, as GET /v1/messages does with an admin key')
    .option('--caller <name>', "only this caller's messages (the name in RELAY_API_KEYS)")
    .option('--to <recipient>', 'only messages to this recipient')
    .option('--status <status>', 'only messages in this status (scheduled, queued, sending, sent, delivered, read, failed, expired, canceled)')
    .option('--tag <tag>', 'only messages sent with this X-Relay-Tag')
    .option('--since <time>', 'accepted at or after: ISO 8601 with offset, or a duration back from now (15m, 2h, 7d)')
    .option('--until <time>', 'accepted before: same forms as --since')
    .option('--limit <n>', 'most messages on the page (1-200)', intIn(1, 200), 50)
    .option('--cursor <cursor>', 'continue after a page (the nextCursor printed last time)')
    .option('--json', 'print {"items", "nextCursor"} as the API does')
    .action(async (opts: ListOptions) => {
      const c = ctx();
      const q: ListQuery = { limit: opts.limit };
      if (opts.caller !== undefined) q.caller = opts.caller;
      if (opts.to !== undefined) q.to = normalizeRecipient(opts.to);
      if (opts.status !== undefined) q.status = opts.status;
      if (opts.tag !== undefined) q.tag = opts.tag;
      if (opts.since !== undefined) q.sinceMs = parseSinceOption(opts.since, c.io.now());
      if (opts.until !== undefined) q.untilMs = parseSinceOption(opts.until, c.io.now(), '--until');
      if (opts.cursor !== undefined) {
        const cursor = decodeCursor(opts.cursor);
        if (!cursor) throw usageError('--cursor: not a cursor this command or the API printed');
        q.cursor = cursor;
      }
      const page = await (await c.store()).list(q);
      const nextCursor = page.next === undefined ? null : encodeCursor(page.next);
      if (opts.json) return printJson(c.io, { items: page.records, nextCursor });
      printTable(
        c.io,
        ['ID', 'CREATED', 'STATUS', 'TO', 'TYPE', 'CALLER'],
        page.records.map((r) => [r.id, r.createdAt, r.status, r.to, r.type, r.caller]),
      );
      if (nextCursor !== null) c.io.stdout.write(`more: --cursor ${nextCursor}\n`);
    });
  messages
    .command('cancel')
    .description('cancel a message not yet handed to CBOT, as DELETE /v1/messages/{id} does with an admin key; or every unsent one with --tag')
    .argument('[id]', 'relay message id (msg_…)')
    .option('--tag <tag>', 'cancel every scheduled or queued message with this X-Relay-Tag (POST /v1/messages/cancel)')
    .option('--caller <name>', "with --tag: only this caller's messages (default: every caller's)")
    .option('--json', 'print the answer as the API does')
    .action(async (id: string | undefined, opts: { tag?: string; caller?: string; json?: boolean }) => {
      const c = ctx();
      if ((id === undefined) === (opts.tag === undefined)) throw usageError('give a message id or --tag <tag>, not both');
      if (opts.tag !== undefined) {
        if (!/^[A-Za-z0-9._:-]{1,64}$/.test(opts.tag)) throw usageError('--tag: 1 to 64 characters of A-Z a-z 0-9 . _ : -');
        const canceled = await (await c.outbound()).cancelTag(opts.caller, opts.tag, c.io.now);
        if (opts.json) return printJson(c.io, { canceled });
        c.io.stdout.write(`canceled ${canceled}\n`);
        return;
      }
      const result = await (await c.outbound()).cancel(id!, undefined, c.io.now());
      if (result.kind === 'missing') throw notFound(`no message ${id}`);
      if (result.kind === 'not-cancelable') throw failed(`message ${id} is ${result.status}: it was already handed to CBOT or has ended`);
      const rec = await (await c.store()).get(id!);
      if (opts.json) return printJson(c.io, rec ? messageView(rec) : { id, status: 'canceled' });
      c.io.stdout.write(`canceled ${id}\n`);
    });
  return messages;
}
