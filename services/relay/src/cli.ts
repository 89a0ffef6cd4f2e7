import { CbotClient } from '@cbot-relay/cbot-client';
import { ConfigError, loadConfig, requireCbot } from '@cbot-relay/config';
import { webhookHeaders } from './register-webhook.js';

/** `pnpm relay register-webhook`: registers PUBLIC_WEBHOOK_URL with CBOT now. */
async function cli(argv: string[]): Promise<number> {
  const [command] = argv;
  if (command !== 'register-webhook') {
    process.stderr.write('usage: relay register-webhook   (uses CBOT_BASE_URL, CBOT_API_KEY, PUBLIC_WEBHOOK_URL)\n');
    return 2;
  }
  const config = loadConfig(process.env);
  const cbot = requireCbot(config);
  if (config.webhook.publicUrl === undefined) throw new ConfigError('PUBLIC_WEBHOOK_URL: required by register-webhook');
  const client = new CbotClient({ ...cbot, apiKeyHeader: config.cbot.apiKeyHeader, timeoutMs: config.cbot.timeoutMs });
  try {
    const res = await client.registerWebhook(config.webhook.publicUrl, webhookHeaders(config));
    process.stdout.write(`${res.ok ? 'registered' : 'failed'}: ${config.webhook.publicUrl} (${res.detail})\n`);
    return res.ok ? 0 : 1;
  } finally {
    await client.close();
  }
}

cli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`relay: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
