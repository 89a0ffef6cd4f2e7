import { callbackAuthHeaders } from '@cbot-relay/cbot-client';

/** The headers CBOT must send back on callbacks: the channel's Basic credentials, when configured. */
export function webhookHeaders(basic: { user: string; pass: string } | undefined): Record<string, string> | undefined {
  return callbackAuthHeaders(basic);
}
