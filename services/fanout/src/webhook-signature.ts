import { createHmac } from 'node:crypto';

/**
 * The HMAC key for a subscriber secret: the base64-decoded bytes after `whsec_` (Standard Webhooks),
 * or the UTF-8 bytes of any other string (accepted for receivers that configure a plain shared secret).
 */
export function signingKey(secret: string): Buffer {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice('whsec_'.length), 'base64') : Buffer.from(secret, 'utf8');
}

/** `v1,<base64 HMAC-SHA256 of "${id}.${timestamp}.${body}">` per the Standard Webhooks spec. */
export function signWebhook(key: Buffer, id: string, timestampS: number, body: string): string {
  const mac = createHmac('sha256', key).update(`${id}.${timestampS}.${body}`, 'utf8').digest('base64');
  return `v1,${mac}`;
}

/**
 * The headers of one delivery attempt; `webhook-id` stays the same on every retry and replay. With
 * several keys (a secret rotation's overlap window) `webhook-signature` carries one space-separated
 * `v1,…` per key, the current one first: a receiver with either secret verifies it.
 */
export function webhookHeaders(key: Buffer | readonly Buffer[], id: string, nowMs: number, body: string): Record<string, string> {
  const timestamp = Math.floor(nowMs / 1000);
  const keys = Buffer.isBuffer(key) ? [key] : key;
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': keys.map((k) => signWebhook(k, id, timestamp, body)).join(' '),
  };
}
