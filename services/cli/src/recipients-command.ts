import { Command } from 'commander';
import { Recipient, normalizeRecipient } from '@cbot-relay/messages';
import type { RecipientView } from '@cbot-relay/records';
import { decodeOptCursor } from '@cbot-relay/records';
import type { CliContext } from './cli-context.js';
import { usageError } from './cli-error.js';
import { printFields, printJson, printTable } from './output.js';
import { intIn } from './parse-time.js';

/** A recipient as given on the command line, normalised like a send's `to`; exit 2 otherwise. */
function recipientArg(to: string): string {
  if (!Recipient.safeParse(to).success) throw usageError(`not a WhatsApp id: ${JSON.stringify(to.slice(0, 40))} (1 to 15 digits, optionally after a +)`);
  return normalizeRecipient(to);
}

function printRecipient(c: CliContext, v: RecipientView, json?: boolean): void {
  if (json) return printJson(c.io, v);
  printFields(c.io, [
    ['to', v.to],
    ['channel', v.channel],
    ['window', v.window],
    ['lastInboundAt', v.lastInboundAt ?? '-'],
    ['windowClosesAt', v.windowClosesAt ?? '-'],
    ['optedOut', v.optedOut ? `yes, at ${v.optedOutAt}` : 'no'],
  ]);
}

/** `recipients show <to>`: the customer-service window and opt-out, as GET /v1/recipients/{to} shows them. */
export function recipientsCommand(ctx: () => CliContext): Command {
  const recipients = new Command('recipients').description("WhatsApp's rules per recipient: customer-service window and opt-out, read from Redis");
  recipients
    .command('show')
    .description('show a recipient as GET /v1/recipients/{to} does')
    .argument('<to>', 'the recipient (WhatsApp id)')
    .option('--channel <id>', 'the channel (default: the default channel)')
    .option('--json', 'print it as the API does')
    .action(async (to: string, opts: { channel?: string; json?: boolean }) => {
      const c = ctx();
      const channel = c.channel(opts.channel).id;
      printRecipient(c, await (await c.recipients()).get(channel, recipientArg(to), c.io.now()), opts.json);
    });
  return recipients;
}

/** `opt-outs list|add|remove`: the opt-out admin API on Redis. */
export function optOutsCommand(ctx: () => CliContext): Command {
  const optOuts = new Command('opt-outs').description('recipients opted out of a channel (STOP), as the /v1/opt-outs admin API');
  optOuts
    .command('list')
    .description("a channel's opted-out recipients, in recipient order")
    .option('--channel <id>', 'the channel (default: the default channel)')
    .option('--limit <n>', 'most recipients on the page (1-500)', intIn(1, 500), 100)
    .option('--cursor <cursor>', 'continue after a page (the nextCursor printed last time)')
    .option('--json', 'print {"items", "nextCursor"} as the API does')
    .action(async (opts: { channel?: string; limit: number; cursor?: string; json?: boolean }) => {
      const c = ctx();
      const channel = c.channel(opts.channel).id;
      if (opts.cursor !== undefined && decodeOptCursor(opts.cursor) === undefined) throw usageError('--cursor: not a cursor this command or the API printed');
      const page = await (await c.recipients()).listOptOuts(channel, opts.cursor, opts.limit);
      if (opts.json) return printJson(c.io, page);
      printTable(c.io, ['TO', 'CHANNEL', 'OPTED OUT AT'], page.items.map((i) => [i.to, i.channel, i.optedOutAt]));
      if (page.nextCursor !== null) c.io.stdout.write(`more: --cursor ${page.nextCursor}\n`);
    });
  for (const [name, out] of [['add', true], ['remove', false]] as const) {
    optOuts
      .command(name)
      .description(out ? 'opt a recipient out: sends to it are refused, its queued messages fail' : 'opt a recipient back in')
      .argument('<to>', 'the recipient (WhatsApp id)')
      .option('--channel <id>', 'the channel (default: the default channel)')
      .option('--json', 'print the recipient as the API does')
      .action(async (to: string, opts: { channel?: string; json?: boolean }) => {
        const c = ctx();
        const channel = c.channel(opts.channel).id;
        const r = await c.recipients();
        const who = recipientArg(to);
        if (out) await r.optOut(channel, who, c.io.now());
        else await r.optIn(channel, who, c.io.now());
        printRecipient(c, await r.get(channel, who, c.io.now()), opts.json);
      });
  }
  return optOuts;
}
