import { Command } from 'commander';
import { DAY_MS, TemplateStore, usageDays } from '@cbot-relay/records';
import type { CliContext } from './cli-context.js';
import { unreachable, usageError } from './cli-error.js';
import { parseSinceOption } from './dead-letters-command.js';
import { printJson, printTable } from './output.js';

/** What the CLI shows of a template (CBOT's entry as stored). */
interface StoredTemplate {
  name: string;
  language: string;
  status?: string;
  category?: string;
}

/**
 * `templates list [--channel]`: the channel's template list as the relay holds it (Redis, shared by
 * every ingress); with none stored yet, CBOT is asked directly with the channel's key.
 */
export function templatesCommand(ctx: () => CliContext): Command {
  const templates = new Command('templates').description("a channel's message templates");
  templates
    .command('list')
    .description('list the templates the relay checks template sends against (as GET /v1/templates)')
    .option('--channel <id>', 'the channel (default: the default channel)')
    .option('--json', 'print {"channel", "fetchedAt", "templates"} as the API does')
    .action(async (opts: { channel?: string; json?: boolean }) => {
      const c = ctx();
      const channel = c.channel(opts.channel);
      const stored = await new TemplateStore({ redis: await c.redis(), prefix: c.config.queuePrefix }).read(channel.id);
      let list: StoredTemplate[];
      let fetchedAt: string;
      if (stored) {
        list = JSON.parse(stored.listJson) as StoredTemplate[];
        fetchedAt = new Date(stored.atMs).toISOString();
      } else {
        const loaded = await c.cbot(channel).listTemplates();
        if (!loaded.ok) throw unreachable(`CBOT of channel ${channel.id} could not list templates: ${loaded.detail}`);
        list = loaded.templates as StoredTemplate[];
        fetchedAt = new Date(c.io.now()).toISOString();
      }
      if (opts.json) return printJson(c.io, { channel: channel.id, fetchedAt, templates: list });
      printTable(
        c.io,
        ['NAME', 'LANGUAGE', 'STATUS', 'CATEGORY'],
        list.map((t) => [t.name, t.language, (t.status ?? '-').toUpperCase(), t.category ?? '-']),
      );
      c.io.stdout.write(`channel ${channel.id}, loaded ${fetchedAt}\n`);
    });
  return templates;
}

interface UsageOptions {
  since?: string;
  until?: string;
  channel?: string;
  caller?: string;
  json?: boolean;
}

/** `usage`: messages priced per caller, channel, category and type, every caller's (as an admin key sees GET /v1/usage). */
export function usageCommand(ctx: () => CliContext): Command {
  return new Command('usage')
    .description('messages priced per caller, channel, category and type, counted per UTC day (as GET /v1/usage with an admin key)')
    .option('--since <time>', 'from (rounded down to 00:00 UTC): ISO 8601 with offset, or a duration back from now (7d); default 30 days before --until')
    .option('--until <time>', 'to (rounded up to the next 00:00 UTC): same forms; default now')
    .option('--channel <id>', 'only this channel')
    .option('--caller <name>', "only this caller (the name in RELAY_API_KEYS)")
    .option('--json', 'print {"since", "until", "items"} as the API does')
    .action(async (opts: UsageOptions) => {
      const c = ctx();
      const now = c.io.now();
      const untilMs = opts.until === undefined ? now : parseSinceOption(opts.until, now, '--until');
      const sinceMs = opts.since === undefined ? untilMs - 30 * DAY_MS : parseSinceOption(opts.since, now);
      if (sinceMs >= untilMs) throw usageError('--until must be after --since');
      const days = usageDays(sinceMs, untilMs);
      if (days.length > 400) throw usageError('the range may cover at most 400 days');
      const channel = opts.channel === undefined ? undefined : c.channel(opts.channel).id;
      const items = await (await c.store()).usage({
        sinceMs,
        untilMs,
        ...(channel === undefined ? {} : { channel }),
        ...(opts.caller === undefined ? {} : { caller: opts.caller }),
      });
      const since = new Date(days[0]! * DAY_MS).toISOString();
      const until = new Date((days[days.length - 1]! + 1) * DAY_MS).toISOString();
      if (opts.json) return printJson(c.io, { since, until, items });
      printTable(
        c.io,
        ['CALLER', 'CHANNEL', 'CATEGORY', 'TYPE', 'COUNT'],
        items.map((i) => [i.caller, i.channel, i.category, i.type, String(i.count)]),
      );
      c.io.stdout.write(`${since} to ${until}: ${items.reduce((n, i) => n + i.count, 0)} messages priced\n`);
    });
}
