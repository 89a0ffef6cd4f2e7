import { describe, expect, it } from 'vitest';
import { uniquePrefix, waitFor } from '@cbot-relay/testing';
import { SubscriberStore } from './index.js';
import type { SubscriberRecord } from './index.js';
import { useTestRedis } from './test-support/redis.js';

const redis = await useTestRedis();

const queue = (name: string, over: Partial<SubscriberRecord> = {}): SubscriberRecord =>
  ({ name, kind: 'queue', types: ['*'], enabled: true, createdAt: 1, updatedAt: 1, source: 'api', ...over }) as SubscriberRecord;

describe('SubscriberStore', () => {
  it('creates once, bumps the version on every change and publishes it', async () => {
    const store = new SubscriberStore({ redis, prefix: uniquePrefix() });
    const sub = redis.duplicate();
    const heard: string[] = [];
    await sub.subscribe(store.channel);
    sub.on('message', (_c, v: string) => heard.push(v));
    expect(await store.create(queue('crm'))).toBe(true);
    expect(await store.create(queue('crm', { types: ['message.status'] }))).toBe(false);
    expect((await store.get('crm'))?.types).toEqual(['*']);
    await store.update('crm', (cur) => ({ ...cur, enabled: false }));
    expect(await store.delete('crm')).toBe(true);
    expect(await store.delete('crm')).toBe(false);
    expect(await store.update('crm', (cur) => cur)).toBeUndefined();
    expect(await store.version()).toBe(3);
    await waitFor(() => heard.length === 3, { what: 'three notifications' });
    expect(heard).toEqual(['1', '2', '3']);
    sub.disconnect();
  });

  it('loses no update when two run at once', async () => {
    const store = new SubscriberStore({ redis, prefix: uniquePrefix() });
    await store.create(queue('crm', { channels: [] }));
    await Promise.all(['a', 'b', 'c', 'd', 'e'].map((ch) => store.update('crm', (cur) => ({ ...cur, channels: [...(cur.channels ?? []), ch] }))));
    expect((await store.get('crm'))?.channels?.slice().sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('seeds file entries that do not exist, never over an API change or delete', async () => {
    const store = new SubscriberStore({ redis, prefix: uniquePrefix() });
    const file = (name: string, over: Partial<SubscriberRecord> = {}) => queue(name, { source: 'file', ...over });
    expect(await store.seed([file('crm'), file('old'), file('keep')])).toEqual({ created: ['crm', 'old', 'keep'], updated: [], kept: [] });
    await store.update('crm', (cur) => ({ ...cur, enabled: false, source: 'api' }));
    await store.delete('old');
    const again = await store.seed([file('crm'), file('old'), file('keep', { types: ['message.status'], createdAt: 9, updatedAt: 9 }), file('new')]);
    expect(again).toEqual({ created: ['new'], updated: ['keep'], kept: ['crm', 'old'] });
    const snap = await store.snapshot();
    expect(snap.subscribers.map((s) => [s.name, s.enabled, s.types[0]])).toEqual([['crm', false, '*'], ['keep', true, 'message.status'], ['new', true, '*']]);
    expect((await store.get('keep'))?.createdAt).toBe(1);
    // The same file again changes nothing: no version bump for every restart.
    const version = await store.version();
    expect((await store.seed([file('keep', { types: ['message.status'], createdAt: 5, updatedAt: 5 })])).kept).toEqual(['keep']);
    expect(await store.version()).toBe(version);
    // Created again by the API, the name is no longer "deleted".
    expect(await store.create(queue('old'))).toBe(true);
  });

  it('seeds the fallback only into an empty store that never deleted it', async () => {
    const store = new SubscriberStore({ redis, prefix: uniquePrefix() });
    const fallback = queue('default', { source: 'file' });
    expect((await store.seed([], fallback)).created).toEqual(['default']);
    await store.delete('default');
    expect((await store.seed([], fallback)).created).toEqual([]);
    const other = new SubscriberStore({ redis, prefix: uniquePrefix() });
    await other.create(queue('crm'));
    expect((await other.seed([], fallback)).created).toEqual([]);
  });

  it('skips a stored value that does not parse', async () => {
    const prefix = uniquePrefix();
    const store = new SubscriberStore({ redis, prefix });
    await store.create(queue('crm'));
    await redis.hset(`${prefix}:subscribers`, 'bad', '{"name":"bad"');
    const snap = await store.snapshot();
    expect(snap.subscribers.map((s) => s.name)).toEqual(['crm']);
    expect(snap.invalid).toEqual(['bad']);
  });
});
