import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KeyRing } from '../auth.js';
import { CONSOLE_COOKIE, cookieSecure, csrfMatches, issueSession, readSession } from './console-session.js';

const keys = new KeyRing([{ name: 'ops', key: 'admin-key-0123456789' }]);
const secret = randomBytes(32);
const NOW = 1_800_000_000_000;

const cookieOf = (setCookie: string) => setCookie.split(';')[0]!;

describe('console session', () => {
  it('reads back what it issued, with the same CSRF token', () => {
    const issued = issueSession(keys, secret, 'ops', NOW, true)!;
    expect(issued.cookie).toMatch(/; Path=\/console; Max-Age=28800; HttpOnly; SameSite=Strict; Secure$/);
    const read = readSession(keys, secret, `a=b; ${cookieOf(issued.cookie)}`, NOW + 1000);
    expect(read).toEqual(issued.session);
    expect(csrfMatches(read!, issued.session.csrf)).toBe(true);
    expect(csrfMatches(read!, `${issued.session.csrf.slice(1)}x`)).toBe(false);
    expect(csrfMatches(read!, undefined)).toBe(false);
  });

  it('refuses an expired, altered, re-keyed or other-relay cookie', () => {
    const { cookie } = issueSession(keys, secret, 'ops', NOW, false)!;
    const value = cookieOf(cookie);
    expect(readSession(keys, secret, value, NOW + 8 * 3600 * 1000)).toBeUndefined();
    const [name, exp, id, mac] = value.slice(CONSOLE_COOKIE.length + 1).split('~') as [string, string, string, string];
    expect(readSession(keys, secret, `${CONSOLE_COOKIE}=${name}~${Number(exp) + 60}~${id}~${mac}`, NOW)).toBeUndefined();
    expect(readSession(new KeyRing([{ name: 'ops', key: 'another-key-0123456' }]), secret, value, NOW)).toBeUndefined();
    expect(readSession(keys, randomBytes(32), value, NOW)).toBeUndefined();
    expect(issueSession(keys, secret, 'nobody', NOW, true)).toBeUndefined();
  });

  it('drops Secure only for plain HTTP to this machine', () => {
    expect(cookieSecure(false, 'localhost:8080')).toBe(false);
    expect(cookieSecure(false, '127.0.0.1:3000')).toBe(false);
    expect(cookieSecure(false, 'relay.example.com')).toBe(true);
    expect(cookieSecure(true, 'localhost')).toBe(true);
  });
});
