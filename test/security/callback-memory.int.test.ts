import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RawConnection } from './raw-http.js';
import { RelayUnderAttack } from './relay-under-attack.js';

/**
 * Issue 22 item 6: callbacks of up to 3 MiB are taken by default, and the held-bodies budget still
 * bounds what stalled ones cost. 150 connections each announce a 3 MiB signed-looking callback (its
 * HMAC can only be checked once the body is in), send all of it but the last KiB, and stall.
 * With the defaults (WEBHOOK_MAX_BODY_BYTES 3 MiB, INGRESS_BODY_BUFFER_BYTES 24 MiB,
 * INGRESS_BODY_IDLE_TIMEOUT_MS 5 s) the relay's resident set stays within 80 MB of idle at its
 * peak, and every connection is answered (503 busy past the budget, 408 when it stalls) and closed.
 */
const CONNECTIONS = 150;
const ANNOUNCED = 3 * 1024 * 1024;
const BODY_IDLE_MS = 5_000;
const MB = 1024 * 1024;

let r: RelayUnderAttack;
beforeAll(async () => {
  r = await RelayUnderAttack.start({});
});
afterAll(async () => {
  await r?.close();
});

describe('stalled 3 MiB callbacks', () => {
  it(`hold at most the budget: ${CONNECTIONS} connections raise the RSS by less than 80 MB, and all are closed`, async () => {
    // Warm: the hot path has read and refused a large signed-looking body once.
    const warm = await r.connect();
    await warm.write(head()).then(() => warm.write(Buffer.alloc(ANNOUNCED, 0x20)));
    // Read whole, then refused: not JSON, and its HMAC cannot match.
    await vi.waitFor(() => expect(warm.status()).toBe(401), { timeout: 10_000 });
    warm.socket.destroy();
    const idle = (await r.rss()).now;
    await r.resetPeakRss();

    const conns: RawConnection[] = await Promise.all(Array.from({ length: CONNECTIONS }, () => r.connect()));
    const body = Buffer.alloc(ANNOUNCED - 1024, 0x20);
    body.write('{"messages":[');
    await Promise.all(conns.map((c) => c.write(head()).then(() => c.write(body)).catch(() => undefined)));
    const sent = Date.now();
    await Promise.all(conns.map((c) => c.closed));
    const closedAfterMs = Date.now() - sent;
    const { peak } = await r.rss();
    const statuses = conns.map((c) => c.status());
    console.log(`RSS idle ${(idle / MB).toFixed(1)} MB, peak ${(peak / MB).toFixed(1)} MB (+${((peak - idle) / MB).toFixed(1)} MB); ` +
      `${statuses.filter((s) => s === 503).length} × 503, ${statuses.filter((s) => s === 408).length} × 408; all closed ${closedAfterMs} ms after the last write`);
    expect(peak - idle).toBeLessThan(80 * MB);
    // Every connection heard why: busy (over the budget) or request_timeout (stalled).
    for (const s of statuses) expect([408, 503]).toContain(s);
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(0);
    // The stalled ones are cut by the body-idle timeout, counted from their last byte read (which a busy
    // host reads late), well before the request timeout (INGRESS_REQUEST_TIMEOUT_MS, 15 s) would.
    expect(closedAfterMs).toBeLessThan(BODY_IDLE_MS + 6_000);
  });
});

function head(): string {
  return (
    `POST /webhooks/cbot HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\nContent-Length: ${ANNOUNCED}\r\n` +
    `X-Hub-Signature-256: sha256=${'ab'.repeat(32)}\r\n\r\n`
  );
}
