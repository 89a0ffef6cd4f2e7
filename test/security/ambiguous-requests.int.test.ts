import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { send } from './raw-http.js';
import { ADMIN_KEY, API_KEY, BASIC, JSON_TYPE, RelayUnderAttack, bearer, textMessage } from './relay-under-attack.js';

/** Issue 14 item 5: requests that two readers could take two ways are refused, and nothing reaches CBOT. */
let r: RelayUnderAttack;
beforeAll(async () => {
  r = await RelayUnderAttack.start({});
});
afterEach(() => r.disconnectAll());
afterAll(async () => {
  await r?.close();
});

describe('JSON that could be read two ways', () => {
  it.each([
    ['{"to":"905550000001","type":"text","text":{"body":"a","body":"b"}}', 'text.body', 'duplicate key'],
    ['{"to":"905550000001","to":"905550000002","type":"text","text":{"body":"a"}}', 'to', 'duplicate key'],
    ['{"to":"905550000001","type":"text","text":{"body":"a"},"\\u0074o":"905550000002"}', 'to', 'duplicate key'],
    ['{"to":"905550000001","type":"text","text":{"body":"a"},"__proto__":{"to":"905550000002"}}', '__proto__', 'reserved key'],
    ['{"to":"905550000001","type":"text","text":{"body":"a","constructor":{"prototype":{}}}}', 'text.constructor', 'reserved key'],
    ['{"to":"905550000001","type":"text","text":{"body":"a"},"x":[1,{"prototype":1}]}', 'x.1.prototype', 'reserved key'],
  ])('refuses %s with 400 naming %s', async (body, path, message) => {
    const res = await send(r.client(), r.port, 'POST', '/v1/messages', [...JSON_TYPE, bearer(API_KEY)], body);
    expect(res.status).toBe(400);
    const err = (JSON.parse(res.body) as { error: { code: string; details: unknown[] } }).error;
    expect(err.code).toBe('invalid_json');
    expect(err.details).toEqual([{ path, message }]);
  });

  it('sends nothing of them to CBOT, while a clean message right after goes through', async () => {
    const res = await send(r.client(), r.port, 'POST', '/v1/messages', [...JSON_TYPE, bearer(API_KEY)], textMessage('905550000009', 'clean'));
    expect(res.status).toBe(202);
    await vi.waitFor(() => expect(r.sim.received().map((m) => m.to)).toContain('905550000009'), { timeout: 10_000 });
    expect(r.sim.received().filter((m) => m.to.startsWith('90555000000') && m.to !== '905550000009')).toEqual([]);
  });

  it('keeps a callback with a duplicate or reserved key (refusing it would lose it once CBOT stops retrying)', async () => {
    const body = '{"messages":[],"statuses":[],"statuses":[],"__proto__":{"polluted":true}}';
    const res = await send(r.client(), r.port, 'POST', '/webhooks/cbot', [...JSON_TYPE, ['Authorization', BASIC]], body);
    expect(res.status).toBe(200);
    expect((await send(r.client(), r.port, 'GET', '/healthz')).status).toBe(200);
  });
});

describe('repeated Authorization', () => {
  it.each([
    ['POST', '/v1/messages', [bearer(API_KEY), bearer('someone-elses-key')]],
    ['POST', '/v1/messages', [bearer('someone-elses-key'), bearer(API_KEY)]],
    ['POST', '/webhooks/cbot', [['Authorization', BASIC], ['authorization', BASIC]]],
    ['GET', '/v1/dead-letters', [bearer(ADMIN_KEY), bearer(ADMIN_KEY)]],
    ['GET', '/metrics', [bearer(ADMIN_KEY), bearer(API_KEY)]],
  ] as [string, string, [string, string][]][])('%s %s is 400', async (method, path, auth) => {
    const res = await send(r.client(), r.port, method, path, [...JSON_TYPE, ...auth], method === 'POST' ? textMessage('905550000010') : undefined);
    expect(res.status).toBe(400);
    expect((JSON.parse(res.body) as { error: { code: string } }).error.code).toBe('invalid_header');
  });
});
