import { Command } from 'commander';
import { callbackAuthHeaders } from '@cbot-relay/cbot-client';
import type { CliContext } from './cli-context.js';
import { failed, notFound, unreachable, usageError } from './cli-error.js';
import { printJson } from './output.js';

/** Until CHANNELS_FILE: the CBOT_* variables are the one channel `default`. */
const CHANNELS = ['default'];

const channelOption = ['--channel <id>', 'the CBOT channel (today only "default": the CBOT_* variables)', 'default'] as const;

/** A CBOT answer that is not an HTTP status is a network failure: CBOT could not be reached. */
const cbotFailure = (what: string, detail: string) =>
  detail.startsWith('HTTP ') ? failed(`CBOT refused ${what}: ${detail}`) : unreachable(`cannot reach CBOT (${what}): ${detail}`);

function checkChannel(id: string): void {
  if (!CHANNELS.includes(id)) throw notFound(`no channel ${JSON.stringify(id)} (channels: ${CHANNELS.join(', ')})`);
}

export async function registerWebhook(c: CliContext, opts: { channel: string; json?: boolean }): Promise<void> {
  checkChannel(opts.channel);
  const url = c.config.webhook.publicUrl;
  if (url === undefined) throw usageError('PUBLIC_WEBHOOK_URL: required to register the callback URL');
  const res = await c.cbot().registerWebhook(url, callbackAuthHeaders(c.config.webhook.basic));
  if (!res.ok) throw cbotFailure('the callback URL', res.detail);
  if (opts.json) printJson(c.io, { channel: opts.channel, url, registered: true });
  else c.io.stdout.write(`registered: ${url} (${res.detail})\n`);
}

export function webhookCommand(ctx: () => CliContext): Command {
  const webhook = new Command('webhook').description("the callback URL CBOT calls (POST/GET {CBOT_BASE_URL}v1/configs/webhook)");
  webhook
    .command('register')
    .description('register PUBLIC_WEBHOOK_URL with CBOT now, with the Basic credentials CBOT must send back (CBOT_WEBHOOK_USER/PASS)')
    .option(...channelOption)
    .option('--json', 'print {"channel", "url", "registered"} as JSON')
    .action((opts: { channel: string; json?: boolean }) => registerWebhook(ctx(), opts));
  webhook
    .command('show')
    .description('show the callback URL CBOT holds, and whether it is PUBLIC_WEBHOOK_URL')
    .option(...channelOption)
    .option('--json', 'print {"channel", "url", "expected", "matches"} as JSON')
    .action(async (opts: { channel: string; json?: boolean }) => {
      const c = ctx();
      checkChannel(opts.channel);
      const res = await c.cbot().getWebhook();
      if (!res.ok) throw cbotFailure('the callback URL query', res.detail);
      const expected = c.config.webhook.publicUrl ?? null;
      const matches = expected === null ? null : res.url === expected;
      if (opts.json) return printJson(c.io, { channel: opts.channel, url: res.url, expected, matches });
      c.io.stdout.write(`CBOT calls: ${res.url ?? '(no callback URL set)'}\n`);
      if (expected === null) c.io.stdout.write('PUBLIC_WEBHOOK_URL is not set: nothing to compare with\n');
      else c.io.stdout.write(matches ? 'matches PUBLIC_WEBHOOK_URL\n' : `differs from PUBLIC_WEBHOOK_URL (${expected}): run \`cbot-relay webhook register\`\n`);
    });
  return webhook;
}
