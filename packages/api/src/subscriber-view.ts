import { createHash } from 'node:crypto';
import type { SubscriberRecord } from '@cbot-relay/records';
import type { Subscriber } from './subscribers.js';

/** What the API shows of a stored subscriber: everything but its secrets, which appear as fingerprints. */
export function subscriberView(rec: SubscriberRecord, nowMs: number): Subscriber {
  const common = {
    name: rec.name,
    types: rec.types,
    ...(rec.channels ? { channels: rec.channels } : {}),
    enabled: rec.enabled,
    source: rec.source,
    createdAt: new Date(rec.createdAt).toISOString(),
    updatedAt: new Date(rec.updatedAt).toISOString(),
  };
  if (rec.kind === 'queue') {
    return {
      ...common,
      kind: 'queue',
      queue: `events.${rec.name}`,
      ...(rec.maxWaiting !== undefined ? { maxWaiting: rec.maxWaiting } : {}),
      ...(rec.maxAgeS !== undefined ? { maxAgeS: rec.maxAgeS } : {}),
    };
  }
  return {
    ...common,
    kind: 'http',
    url: rec.url,
    secretFingerprint: secretFingerprint(rec.secret),
    previousSecrets: rec.previousSecrets
      .filter((p) => p.expiresAt > nowMs)
      .map((p) => ({ fingerprint: secretFingerprint(p.secret), expiresAt: new Date(p.expiresAt).toISOString() })),
  };
}

/** `sha256:` + 16 hex digits of the secret's SHA-256: enough to tell secrets apart, useless to sign with. */
export function secretFingerprint(secret: string): string {
  return `sha256:${createHash('sha256').update(secret).digest('hex').slice(0, 16)}`;
}
