import { CbotClient } from '@cbot-relay/cbot-client';
import { ConfigError, channelsOf, loadConfig, requireChannelCbot } from '@cbot-relay/config';
import { webhookHeaders } from './register-webhook.js';

/** `pnpm relay register-webhook [channel]`: registers each channel's public callback URL with its CBOT now. */
async function cli(argv: string[]): Promise<number> {
  const [command, only] = argv;
  if (command !== 'register-webhook') {
    process.stderr.write('usage: relay register-webhook [channel]   (uses CBOT_BASE_URL, CBOT_API_KEY, PUBLIC_WEBHOOK_URL or CHANNELS_FILE)\n');
    return 2;
  }
  const config = loadConfig(process.env);
  const channels = channelsOf(config).filter((ch) => only === undefined || ch.id === only);
  if (only !== undefined && channels.length === 0) throw new ConfigError(`no channel "${only}"`);
  const targets = channels.filter((ch) => ch.webhook.publicUrl !== undefined);
  if (targets.length === 0) throw new ConfigError(config.channelsFile ? 'CHANNELS_FILE: no channel has a publicWebhookUrl' : 'PUBLIC_WEBHOOK_URL: required by register-webhook');
  let failed = 0;
  for (const ch of targets) {
    const client = new CbotClient({ ...requireChannelCbot(ch), api: ch.api, apiKeyHeader: ch.apiKeyHeader, timeoutMs: config.cbot.timeoutMs });
    try {
      const res = await client.registerWebhook(ch.webhook.publicUrl!, webhookHeaders(ch.webhook.basic));
      const who = config.channelsFile ? `${ch.id}: ` : '';
      process.stdout.write(`${who}${res.ok ? 'registered' : 'failed'}: ${ch.webhook.publicUrl} (${res.detail})\n`);
      if (!res.ok) failed++;
    } finally {
      await client.close();
    }
  }
  return failed === 0 ? 0 : 1;
}

cli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`relay: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
