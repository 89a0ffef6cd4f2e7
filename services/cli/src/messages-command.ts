import { Command } from 'commander';
import type { MessageRecord } from '@cbot-relay/records';
import type { CliContext } from './cli-context.js';
import { notFound } from './cli-error.js';
import { printFields, printJson, printTable } from './output.js';

/** The record as `GET /v1/messages/{id}` shows it: every field but the caller. */
export function messageView(rec: MessageRecord): Omit<MessageRecord, 'caller'> {
  const { caller: _caller, ...view } = rec;
  return view;
}

/**
 * `messages get <id>`. `messages list` belongs here too: add it as
 * `messages.command('list')…` over the store's listing function once it exists
 * (`GET /v1/messages` filters: --to, --status, --since, --until, --limit, --cursor).
 */
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
  return messages;
}
