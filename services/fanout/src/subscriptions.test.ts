import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { retentionPolicy } from './fanout.js';
import { DEFAULT_SUBSCRIPTIONS, loadSubscriptions, parseSubscriptions, wants } from './subscriptions.js';
import { FAST_FANOUT } from './test-support/rig.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const http = { name: 'analytics', kind: 'http', url: 'https://hooks.example/in', secret: SECRET, types: ['*'] };
const queue = { name: 'crm', kind: 'queue', types: ['message.received'] };

function errorOf(doc: unknown): string {
  try {
    parseSubscriptions(doc);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected a SUBSCRIPTIONS_FILE error');
}

describe('parseSubscriptions', () => {
  it('accepts the contract example and defaults types to "*"', () => {
    const subs = parseSubscriptions({ subscribers: [queue, { ...http, types: undefined }] });
    expect(subs.subscribers).toEqual([queue, { ...http, types: ['*'] }]);
  });

  it('accepts a raw secret of 16+ characters', () => {
    expect(parseSubscriptions({ subscribers: [{ ...http, secret: 'a-long-shared-secret' }] }).subscribers).toHaveLength(1);
  });

  it.each([
    [{ subscribers: [{ ...queue, name: 'bad name' }] }, /^SUBSCRIPTIONS_FILE: subscribers\[0\]\.name: must match/],
    [{ subscribers: [queue, { ...http, name: 'crm' }] }, /subscribers\[1\] \("crm"\)\.name: duplicate name "crm"/],
    [{ subscribers: [{ ...queue, types: ['message.sent'] }] }, /subscribers\[0\] \("crm"\)\.types\[0\]: unknown event type "message.sent"/],
    [{ subscribers: [{ ...queue, types: ['*', 'message.status'] }] }, /types: "\*" must stand alone/],
    [{ subscribers: [{ ...queue, types: [] }] }, /types: list at least one event type/],
    [{ subscribers: [{ ...http, url: undefined }] }, /subscribers\[0\] \("analytics"\)\.url/],
    [{ subscribers: [{ ...http, url: 'ftp://x.example/' }] }, /\.url: required for http subscribers: an http\(s\) URL/],
    [{ subscribers: [{ ...http, secret: undefined }] }, /\("analytics"\)\.secret/],
    [{ subscribers: [{ ...queue, kind: 'kafka' }] }, /subscribers\[0\] \("crm"\)\.kind/],
    [{ subscribers: [{ ...queue, url: 'https://x.example/' }] }, /subscribers\[0\] \("crm"\)/],
    [{ subscribers: [] }, /subscribers: list at least one subscriber/],
    [{ subscribers: [{ ...queue, maxWaiting: -1 }] }, /\("crm"\)\.maxWaiting: must be 0 \(unbounded\) or more/],
    [{ subscribers: [{ ...queue, maxAgeS: 1.5 }] }, /\("crm"\)\.maxAgeS: must be a whole number/],
    [{ subscribers: [{ ...http, maxWaiting: 10 }] }, /\("analytics"\)/],
    [{ subscriber: [queue] }, /^SUBSCRIPTIONS_FILE: /],
    [[], /^SUBSCRIPTIONS_FILE: document/],
  ])('rejects %j', (doc, message) => {
    expect(errorOf(doc)).toMatch(message);
  });

  it.each(['too-short', 'whsec_c2hvcnQ=', 'whsec_not base64!'])('rejects a weak or malformed secret without echoing it', (secret) => {
    const message = errorOf({ subscribers: [{ ...http, secret }] });
    expect(message).toMatch(/^SUBSCRIPTIONS_FILE: subscribers\[0\] \("analytics"\)\.secret: /);
    expect(message).not.toContain(secret);
  });
});

describe('retentionPolicy', () => {
  const cfg = { ...FAST_FANOUT, subscriberMaxWaiting: 1_000, subscriberMaxAgeS: 60 };
  it("takes a queue subscriber's own bounds, else the global ones; HTTP subscribers have none", () => {
    const [own, global, hook] = parseSubscriptions({ subscribers: [{ ...queue, maxWaiting: 5, maxAgeS: 0 }, { ...queue, name: 'b' }, http] }).subscribers;
    expect(retentionPolicy(own!, cfg)).toEqual({ maxWaiting: 5, maxAgeMs: 0 });
    expect(retentionPolicy(global!, cfg)).toEqual({ maxWaiting: 1_000, maxAgeMs: 60_000 });
    expect(retentionPolicy(hook!, cfg)).toBeUndefined();
  });
});

describe('loadSubscriptions', () => {
  const dir = mkdtempSync(join(tmpdir(), 'subs-'));

  it('gives one queue subscriber named default without a file', () => {
    expect(loadSubscriptions(undefined)).toEqual(DEFAULT_SUBSCRIPTIONS);
    expect(DEFAULT_SUBSCRIPTIONS.subscribers).toEqual([{ name: 'default', kind: 'queue', types: ['*'] }]);
  });

  it('reads a file', () => {
    const file = join(dir, 'ok.json');
    writeFileSync(file, JSON.stringify({ subscribers: [queue, http] }));
    expect(loadSubscriptions(file).subscribers.map((s) => s.name)).toEqual(['crm', 'analytics']);
  });

  it('names a missing file and never quotes invalid JSON (it may hold a secret)', () => {
    expect(() => loadSubscriptions(join(dir, 'nope.json'))).toThrow(/^SUBSCRIPTIONS_FILE: cannot read .*nope\.json \(ENOENT\)$/);
    const file = join(dir, 'bad.json');
    writeFileSync(file, `{"subscribers":[{"secret":"${SECRET}",}]}`);
    let message = '';
    try {
      loadSubscriptions(file);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe(`SUBSCRIPTIONS_FILE: ${file} is not valid JSON`);
  });
});

describe('wants', () => {
  it('matches "*" and listed types only', () => {
    const [q] = parseSubscriptions({ subscribers: [queue] }).subscribers;
    expect(wants(q!, 'message.received')).toBe(true);
    expect(wants(q!, 'message.status')).toBe(false);
    expect(wants(DEFAULT_SUBSCRIPTIONS.subscribers[0]!, 'unrecognized')).toBe(true);
  });
});
