import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RawConnection } from './raw-http.js';
import { sample, send } from './raw-http.js';
import { API_KEY, BASIC, RelayUnderAttack } from './relay-under-attack.js';

/** Issue 14 item 2: many connections and slow clients are capped and cut. */
const CAP = 48;
const HEADERS_TIMEOUT_MS = 500;
const REQUEST_TIMEOUT_MS = 5_000;
const BODY_IDLE_MS = 500;

let r: RelayUnderAttack;
beforeAll(async () => {
  r = await RelayUnderAttack.start({
    INGRESS_MAX_CONNECTIONS: String(CAP),
    INGRESS_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
    INGRESS_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    INGRESS_BODY_IDLE_TIMEOUT_MS: String(BODY_IDLE_MS),
  });
});
afterEach(() => r.disconnectAll());
afterAll(async () => {
  await r?.close();
});

describe('connection cap', () => {
  /** Opens a connection and asks for /healthz: 'served', or 'refused' when it is closed without a 200. */
  async function probe(): Promise<{ outcome: 'served' | 'refused'; c: RawConnection }> {
    const c = await r.connect();
    await c.write('GET /healthz HTTP/1.1\r\nHost: relay\r\n\r\n').catch(() => undefined);
    const served = new Promise<'served'>((resolve) => {
      const check = () => (c.status() === 200 ? resolve('served') : undefined);
      c.socket.on('data', check);
      check();
    });
    const ended = c.closed.then((): 'served' | 'refused' => (c.status() === 200 ? 'served' : 'refused'));
    const outcome = await Promise.race([served, ended]);
    return { outcome, c };
  }

  it(`holds at most INGRESS_MAX_CONNECTIONS (${CAP}) and takes new ones as others close`, async () => {
    const held: RawConnection[] = [];
    let refused = 0;
    for (let i = 0; i < CAP + 5; i++) {
      const { outcome, c } = await probe();
      if (outcome === 'served') held.push(c);
      else {
        refused++;
        // Refused fast and told so, not dropped silently.
        expect(c.status()).toBe(503);
        expect(c.received()).toMatch(/\r\nretry-after: 1\r\n/i);
        expect(c.received()).toMatch(/\r\nconnection: close\r\n[\s\S]*"code":"busy"/i);
      }
    }
    // Idle keep-alive connections stay open (65 s), so every one served still counts.
    expect(held.length).toBeLessThanOrEqual(CAP);
    expect(held.length).toBeGreaterThan(CAP - 3);
    expect(refused).toBeGreaterThanOrEqual(5);
    expect(sample(await r.metrics(), 'relay_ingress_connections_dropped_total')).toBeGreaterThanOrEqual(refused);
    held.pop()!.socket.destroy();
    held.pop()!.socket.destroy();
    await vi.waitFor(async () => expect((await probe()).outcome).toBe('served'), { timeout: 5_000, interval: 50 });
  });
});

describe('slow clients', () => {
  // Node checks the timeouts every ≤ 1 s here (every 30 s by default); the rest is slack for a busy host.
  const bound = (ms: number) => ms + 3_000;

  it('cuts a client that never finishes its headers', async () => {
    const c = await r.connect();
    const started = Date.now();
    await c.write('POST /v1/messages HTTP/1.1\r\nHost: relay\r\n');
    await c.closed;
    expect(Date.now() - started).toBeLessThan(bound(HEADERS_TIMEOUT_MS));
    expect(c.status() ?? 408).toBe(408);
  });

  it('cuts a body that stalls, with 408', async () => {
    const c = await r.connect();
    const started = Date.now();
    await c.write(`POST /v1/messages HTTP/1.1\r\nHost: relay\r\nAuthorization: Bearer ${API_KEY}\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"to":`);
    await c.closed;
    // Well before the request timeout would have cut it.
    expect(Date.now() - started).toBeLessThan(REQUEST_TIMEOUT_MS - 1_000);
    expect(c.status()).toBe(408);
  });

  it('cuts a body that trickles faster than the idle timeout, at the request timeout', async () => {
    const c = await r.connect();
    const started = Date.now();
    await c.write(`POST /webhooks/cbot HTTP/1.1\r\nHost: relay\r\nAuthorization: ${BASIC}\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n`);
    let sent = 0;
    const drip = setInterval(() => {
      if (c.socket.destroyed) return;
      sent++;
      c.socket.write(' ');
    }, 50);
    await c.closed;
    clearInterval(drip);
    expect(sent).toBeLessThan(10_000);
    expect(Date.now() - started).toBeLessThan(bound(REQUEST_TIMEOUT_MS));
    expect(Date.now() - started).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
  });

  it('lets go of 500 slow clients at once, and then serves as before', async () => {
    const conns = await Promise.all(
      Array.from({ length: 500 }, async () => {
        const c = await r.connect();
        await c.write('POST /webhooks/cbot HTTP/1.1\r\nHost: relay\r\nContent-Le').catch(() => undefined);
        return c;
      }),
    );
    const started = Date.now();
    await Promise.all(conns.map((c) => c.closed));
    expect(Date.now() - started).toBeLessThan(bound(HEADERS_TIMEOUT_MS));
    expect((await send(r.client(), r.port, 'GET', '/healthz')).status).toBe(200);
  });
});
