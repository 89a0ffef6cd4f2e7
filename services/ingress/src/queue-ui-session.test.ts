import { describe, expect, it } from 'vitest';
import { KeyRing } from './auth.js';
import { SESSION_TTL_S, sessionAdmin, sessionCookie } from './queue-ui-session.js';

const keys = new KeyRing([{ name: 'ops', key: 'ops-key-456789' }]);
const T0 = 1_800_000_000_000;
const value = (setCookie: string) => setCookie.split(';')[0]!;

describe('queue UI session cookie', () => {
  it('names the admin key until it expires', () => {
    const c = value(sessionCookie(keys, 'ops', T0, '/admin/queues', false)!);
    expect(sessionAdmin(keys, c, T0)).toBe('ops');
    expect(sessionAdmin(keys, `theme=dark; ${c}; lang=tr`, T0 + (SESSION_TTL_S - 1) * 1000)).toBe('ops');
    expect(sessionAdmin(keys, c, T0 + SESSION_TTL_S * 1000)).toBeUndefined();
  });

  it('is void once the key is changed or removed', () => {
    const c = value(sessionCookie(keys, 'ops', T0, '/admin/queues', false)!);
    expect(sessionAdmin(new KeyRing([{ name: 'ops', key: 'a-new-ops-key-000' }]), c, T0)).toBeUndefined();
    expect(sessionAdmin(new KeyRing([{ name: 'dev', key: 'ops-key-456789' }]), c, T0)).toBeUndefined();
  });

  it('marks itself Secure on HTTPS and is issued only for a configured key', () => {
    expect(sessionCookie(keys, 'ops', T0, '/admin/queues', true)).toMatch(/; Secure$/);
    expect(sessionCookie(keys, 'nobody', T0, '/admin/queues', false)).toBeUndefined();
  });

  it('refuses malformed values', () => {
    for (const c of [undefined, '', 'cbot_relay_queue_ui=', 'cbot_relay_queue_ui=ops~1~x', 'xcbot_relay_queue_ui=ops~99999999999~' + 'A'.repeat(43)]) {
      expect(sessionAdmin(keys, c, T0)).toBeUndefined();
    }
  });
});
