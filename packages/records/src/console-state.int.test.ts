import { describe, expect, it } from 'vitest';
import { uniquePrefix } from '@cbot-relay/testing';
import { ConsoleSecret } from './console-secret.js';
import { RelayKeys } from './keys.js';
import { MINUTE_TTL_S, MinuteCounters } from './minute-counters.js';
import { useTestRedis } from './test-support/redis.js';

const redis = await useTestRedis();

describe('ConsoleSecret', () => {
  it('is one secret per relay, whichever process creates it, and another on another prefix', async () => {
    const keys = new RelayKeys(uniquePrefix('console'));
    const racing = await Promise.all(Array.from({ length: 8 }, () => new ConsoleSecret(redis, keys).get()));
    expect(racing[0]).toHaveLength(32);
    for (const s of racing) expect(s.equals(racing[0]!)).toBe(true);
    const other = await new ConsoleSecret(redis, new RelayKeys(uniquePrefix('console'))).get();
    expect(other.equals(racing[0]!)).toBe(false);
  });

  it('remembers a signed-out session until its TTL', async () => {
    const secret = new ConsoleSecret(redis, new RelayKeys(uniquePrefix('console')));
    expect(await secret.revoked('s1')).toBe(false);
    await secret.revoke('s1', 3600);
    expect(await secret.revoked('s1')).toBe(true);
    expect(await secret.revoked('s2')).toBe(false);
  });
});

describe('MinuteCounters', () => {
  it('counts per minute with a TTL and reads the last hour oldest first, zeros where nothing happened', async () => {
    const keys = new RelayKeys(uniquePrefix('stats'));
    const counters = new MinuteCounters(redis, keys);
    const now = Date.UTC(2026, 11, 6, 5, 30, 10);
    counters.bump('accepted', 2, now);
    counters.bump('sent', 1, now);
    counters.bump('failed', 1, now - 120_000);
    counters.bump('accepted', 0, now);
    await expect.poll(async () => (await counters.recent(now, 60)).at(-1)).toEqual({ atMs: Date.UTC(2026, 11, 6, 5, 30), accepted: 2, sent: 1, failed: 0 });
    const rows = await counters.recent(now, 60);
    expect(rows).toHaveLength(60);
    expect(rows.at(-3)).toEqual({ atMs: Date.UTC(2026, 11, 6, 5, 28), accepted: 0, sent: 0, failed: 1 });
    expect(rows.reduce((n, r) => n + r.accepted + r.sent + r.failed, 0)).toBe(4);
    const ttl = await redis.ttl(keys.minuteStats(Math.floor(now / 60_000)));
    expect(ttl).toBeGreaterThan(MINUTE_TTL_S - 10);
    expect(ttl).toBeLessThanOrEqual(MINUTE_TTL_S);
  });
});
