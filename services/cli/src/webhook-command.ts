import { Command } from 'commander';
import { callbackAuthHeaders } from '@cbot-relay/cbot-client';
import type { ChannelConfig } from '@cbot-relay/config';
import type { CliContext } from './cli-context.js';
import { failed, unreachable, usageError } from './cli-error.js';
import { printJson } from './output.js';

const channelOption = ['--channel <id>', 'the CBOT channel (a CHANNELS_FILE id; default: the default channel, or the CBOT_* variables)'] as const;

/** A CBOT answer that is not an HTTP status is a network failure: CBOT could not be reached. */
const cbotFailure = (what: string, detail: string) =>
  detail.startsWith('HTTP ') ? failed(`CBOT refused ${what}: ${detail}`) : unreachable(`cannot reach CBOT (${what}): ${detail}`);

/** What names the channel's callback URL in messages: the variable, or the channel's file field. */
const urlSetting = (channel: ChannelConfig, c: CliContext) =>
  c.config.channelsFile === undefined ? 'PUBLIC_WEBHOOK_URL' : `channel "${channel.id}" publicWebhookUrl`;

async function registerWebhook(c: CliContext, opts: { channel?: string; json?: boolean }): Promise<void> {
  const channel = c.channel(opts.channel);
  const url = channel.webhook.publicUrl;
  if (url === undefined) throw usageError(`${urlSetting(channel, c)}: required to register the callback URL`);
  const res = await c.cbot(channel).registerWebhook(url, callbackAuthHeaders(channel.webhook.basic));
  if (!res.ok) throw cbotFailure('the callback URL', res.detail);
  if (opts.json) printJson(c.io, { channel: channel.id, url, registered: true });
  else c.io.stdout.write(`registered: ${url} (${res.detail})\n`);
}

export function webhookCommand(ctx: () => CliContext): Command {
  const webhook = new Command('webhook').description("the callback URL CBOT calls (POST/GET {CBOT_BASE_URL}v1/configs/webhook)");
  webhook
    .command('register')
    .description('register PUBLIC_WEBHOOK_URL with CBOT now, with the Basic credentials CBOT must send back (CBOT_WEBHOOK_USER/PASS)')
    .option(...channelOption)
    .option('--json', 'print {"channel", "url", "registered"} as JSON')
    .action((opts: { channel?: string; json?: boolean }) => registerWebhook(ctx(), opts));
  webhook
    .command('show')
    .description('show the callback URL CBOT holds, and whether it is PUBLIC_WEBHOOK_URL')
    .option(...channelOption)
    .option('--json', 'print {"channel", "url", "expected", "matches"} as JSON')
    .action(async (opts: { channel?: string; json?: boolean }) => {
      const c = ctx();
      const channel = c.channel(opts.channel);
      const res = await c.cbot(channel).getWebhook();
      if (!res.ok) throw cbotFailure('the callback URL query', res.detail);
      const expected = channel.webhook.publicUrl ?? null;
      const matches = expected === null ? null : res.url === expected;
      const setting = urlSetting(channel, c);
      if (opts.json) return printJson(c.io, { channel: channel.id, url: res.url, expected, matches });
      c.io.stdout.write(`CBOT calls: ${res.url ?? '(no callback URL set)'}\n`);
      if (expected === null) c.io.stdout.write(`${setting} is not set: nothing to compare with\n`);
      else c.io.stdout.write(matches ? `matches ${setting}\n` : `differs from ${setting} (${expected}): run \`cbot-relay webhook register --channel ${channel.id}\`\n`);
    });
  return webhook;
}
