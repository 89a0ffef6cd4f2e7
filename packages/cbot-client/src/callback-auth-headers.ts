/** The headers CBOT must send back on callbacks (`POST v1/configs/webhook` `headers`): our Basic credentials, when configured. */
export function callbackAuthHeaders(basic: { user: string; pass: string } | undefined): Record<string, string> | undefined {
  if (!basic) return undefined;
  return { Authorization: `Basic ${Buffer.from(`${basic.user}:${basic.pass}`).toString('base64')}` };
}
