/** The headers CBOT must send back on callbacks: the channel's Basic credentials, when configured. */
export function webhookHeaders(basic: { user: string; pass: string } | undefined): Record<string, string> | undefined {
  if (!basic) return undefined;
  return { Authorization: `Basic ${Buffer.from(`${basic.user}:${basic.pass}`).toString('base64')}` };
}
