import { createHmac } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RawConnection } from './raw-http.js';
import { send } from './raw-http.js';
import { APP_SECRET, BASIC, JSON_TYPE, RelayUnderAttack } from './relay-under-attack.js';

/** Issue 14 item 2: what can be refused from the headers is refused before the body is read. */
const BODY_BUDGET = 4 * 1024 * 1024;

let r: RelayUnderAttack;
beforeAll(async () => {
  r = await RelayUnderAttack.start({ INGRESS_BODY_BUFFER_BYTES: String(BODY_BUDGET), INGRESS_BODY_IDLE_TIMEOUT_MS: '500' });
});
afterEach(() => r.disconnectAll());
afterAll(async () => {
  await r?.close();
});

describe('callbacks refused before the body is read', () => {
  /** Declares a ~1 MB callback, sends 1 KB of it, and holds the rest. */
  async function holdBody(headers: string): Promise<RawConnection> {
    const c = await r.connect();
    await c.write(
      `POST /webhooks/cbot HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n${headers}\r\n` +
        `{"messages":[${' '.repeat(1_000)}`,
    );
    return c;
  }

  it.each([
    ['no credentials', ''],
    ['a malformed signature', 'X-Hub-Signature-256: sha256=zz\r\n'],
    ['a malformed signature and correct Basic', `X-Hub-Signature-256: sha256=${'a'.repeat(63)}\r\nAuthorization: ${BASIC}\r\n`],
    ['an empty signature', 'X-Hub-Signature-256: \r\n'],
    ['wrong Basic and no signature', `Authorization: Basic ${Buffer.from('cbot:nope').toString('base64')}\r\n`],
  ])('answers 401 to %s with most of the body unsent, and closes', async (_name, headers) => {
    const c = await holdBody(headers);
    await vi.waitFor(() => expect(c.status()).toBe(401), { timeout: 5_000 });
    expect(c.received()).toMatch(/\r\nconnection: close\r\n/i);
    await c.closed;
  });

  it('keeps the connection of a refused small body: the rest is read and dropped, the next request served', async () => {
    const c = await r.connect();
    await c.write(`POST /webhooks/cbot HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\nContent-Length: 2000\r\n\r\n${' '.repeat(100)}`);
    await vi.waitFor(() => expect(c.status()).toBe(401), { timeout: 5_000 });
    expect(c.received()).not.toMatch(/\r\nconnection: close\r\n/i);
    await c.write(`${' '.repeat(1_900)}GET /healthz HTTP/1.1\r\nHost: relay\r\n\r\n`);
    await vi.waitFor(() => expect(c.received()).toMatch(/HTTP\/1\.1 200 OK/), { timeout: 5_000 });
  });

  it('refuses 40 such connections at once, each before its body', async () => {
    const conns = await Promise.all(Array.from({ length: 40 }, () => holdBody('X-Hub-Signature-256: sha256=not-hex\r\n')));
    await Promise.all(conns.map((c) => c.closed));
    expect(conns.map((c) => c.status())).toEqual(conns.map(() => 401));
  });

  it('holds at most INGRESS_BODY_BUFFER_BYTES of signed-looking bodies; past it, 503 busy', async () => {
    // A well-formed signature must be read before it can be checked: that is what the budget bounds.
    const conns = await Promise.all(Array.from({ length: 8 }, () => holdBody(`X-Hub-Signature-256: sha256=${'ab'.repeat(32)}\r\n`)));
    for (const c of conns) await c.write(' '.repeat(700_000)).catch(() => undefined);
    // 8 × 701 KB against 4 MiB: at most 5 fit.
    await vi.waitFor(() => expect(conns.filter((c) => c.status() === 503).length).toBeGreaterThanOrEqual(2), { timeout: 5_000 });
    const busy = conns.find((c) => c.status() === 503)!;
    expect(busy.received()).toMatch(/\r\nretry-after: 1\r\n/i);
    await Promise.all(conns.map((c) => c.closed));
    expect((await send(r.client(), r.port, 'POST', '/webhooks/cbot', [...JSON_TYPE, ['Authorization', BASIC]], '{"messages":[]}')).status).toBe(200);
  });

  it('takes a callback with an empty signature and correct Basic (the header counts as absent)', async () => {
    const res = await send(r.client(), r.port, 'POST', '/webhooks/cbot', [...JSON_TYPE, ['X-Hub-Signature-256', ''], ['Authorization', BASIC]], '{"messages":[]}');
    expect(res.status).toBe(200);
  });

  it('reads the body of a well-formed signature, then checks its HMAC', async () => {
    const body = '{"object":"whatsapp_business_account","entry":[]}';
    const good = `sha256=${createHmac('sha256', APP_SECRET).update(body).digest('hex')}`;
    expect((await send(r.client(), r.port, 'POST', '/webhooks/cbot', [...JSON_TYPE, ['X-Hub-Signature-256', good]], body)).status).toBe(200);
    expect((await send(r.client(), r.port, 'POST', '/webhooks/cbot', [...JSON_TYPE, ['X-Hub-Signature-256', `sha256=${'0'.repeat(64)}`]], body)).status).toBe(401);
  });
});
