import { describe, expect, it } from 'vitest';
import type { SubscriberRecord } from '@cbot-relay/records';
import { subscriberView } from './subscriber-view.js';
import { Subscriber, SubscriberCreated } from './subscribers.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const secret = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;
const older = `whsec_${Buffer.alloc(32, 2).toString('base64')}`;
const oldest = `whsec_${Buffer.alloc(32, 3).toString('base64')}`;
const http: SubscriberRecord = {
  name: 'hook',
  kind: 'http',
  url: 'https://hooks.example/in',
  secret,
  previousSecrets: [
    { secret: older, expiresAt: T0 + 60_000 },
    { secret: oldest, expiresAt: T0 - 1 },
  ],
  types: ['*'],
  enabled: true,
  createdAt: T0,
  updatedAt: T0,
  source: 'api',
};
const queue: SubscriberRecord = { name: 'crm', kind: 'queue', types: ['message.received'], channels: ['sales'], enabled: false, maxWaiting: 10, createdAt: T0, updatedAt: T0, source: 'file' };

describe('subscriberView', () => {
  it('shows an HTTP subscriber with fingerprints only, and only the previous secrets still signing', () => {
    const view = subscriberView(http, T0);
    expect(Subscriber.parse(view)).toEqual(view);
    expect(view).toMatchObject({ kind: 'http', secretFingerprint: expect.stringMatching(/^sha256:[0-9a-f]{16}$/), createdAt: '2026-01-01T00:00:00.000Z' });
    expect(view.kind === 'http' && view.previousSecrets).toEqual([{ fingerprint: expect.stringMatching(/^sha256:/), expiresAt: '2026-01-01T00:01:00.000Z' }]);
    for (const s of [secret, older, oldest]) expect(JSON.stringify(view)).not.toContain(s.slice(6, 26));
    expect(SubscriberCreated.parse({ ...view, secret })).toMatchObject({ secret });
  });

  it('shows a queue subscriber with its queue name and limits', () => {
    const view = subscriberView(queue, T0);
    expect(Subscriber.parse(view)).toEqual(view);
    expect(view).toEqual({
      name: 'crm',
      kind: 'queue',
      queue: 'events.crm',
      types: ['message.received'],
      channels: ['sales'],
      enabled: false,
      maxWaiting: 10,
      source: 'file',
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
    });
  });
});
