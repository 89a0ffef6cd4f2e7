import { callbackAuthHeaders } from '@cbot-relay/cbot-client';
import type { RelayConfig } from '@cbot-relay/config';

/** The headers CBOT must send back on callbacks: our Basic credentials, when configured. */
export function webhookHeaders(config: RelayConfig): Record<string, string> | undefined {
  return callbackAuthHeaders(config.webhook.basic);
}
