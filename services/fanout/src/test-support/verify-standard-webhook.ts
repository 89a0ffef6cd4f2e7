import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Test-only: a receiver's verifier written from the Standard Webhooks spec, independent of the
 * signer under test. Accepts when any space-separated `v1,<base64>` entry matches and the timestamp
 * is within 5 minutes of `nowS`.
 */
export function verifyStandardWebhook(secret: string, headers: Record<string, string | undefined>, body: string, nowS: number): boolean {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (!id || !timestamp || !signatures || !/^\d+$/.test(timestamp)) return false;
  if (Math.abs(nowS - Number(timestamp)) > 300) return false;
  const key = secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret);
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest();
  return signatures.split(' ').some((entry) => {
    const [version, sig] = entry.split(',', 2);
    if (version !== 'v1' || !sig) return false;
    const given = Buffer.from(sig, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
