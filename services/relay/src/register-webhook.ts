import type { RelayConfig } from '@cbot-relay/config';

/** The headers CBOT must send back on callbacks: our Basic credentials, when configured. */
export function webhookHeaders(config: RelayConfig): Record<string, string> | undefined {
  const basic = config.webhook.basic;
  if (!basic) return undefined;
  return { Authorization: `Basic ${Buffer.from(`${basic.user}:${basic.pass}`).toString('base64')}` };
}
