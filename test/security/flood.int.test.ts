import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { pool, sample, send } from './raw-http.js';
import { ADMIN_KEY, API_KEY, RelayUnderAttack, bearer } from './relay-under-attack.js';

/** Issue 14 item 1 and 6: unique paths must not grow the metrics; /metrics on PORT needs an admin key. */
let r: RelayUnderAttack;
beforeAll(async () => {
  r = await RelayUnderAttack.start({});
});
afterEach(() => r.disconnectAll());
afterAll(async () => {
  await r?.close();
});

describe('unique-path flood', () => {
  it('keeps /metrics and the heap flat under 3,500 distinct 8 KB unmatched paths', async () => {
    const agent = r.client(16);
    const before = await r.metrics();
    const heapBefore = sample(before, 'nodejs_heap_size_used_bytes');
    await pool(3_500, 16, async (i) => {
      const junk = `${i}-${'x'.repeat(8_192)}`;
      const res = i % 2 === 0 ? await send(agent, r.port, 'GET', `/v1/dead-letters/${junk}`) : await send(agent, r.port, 'GET', `/v1/messages/%zz${junk}`);
      expect(res.status).toBe(i % 2 === 0 ? 401 : 400);
    });
    const after = await r.metrics();
    // Two series, each counted 1,750 times, instead of 3,500 labels of 8 KB each (28+ MB of text).
    expect(sample(after, 'relay_requests_rejected_total{route="/v1/dead-letters/*",code="401"}')).toBe(1_750);
    expect(sample(after, 'relay_requests_rejected_total{route="unmatched",code="400"}')).toBe(1_750);
    expect(after.length - before.length).toBeLessThan(4_096);
    // Garbage from the requests is collected as the process keeps working; what is left must be small.
    await vi.waitFor(
      async () => {
        await send(agent, r.port, 'GET', '/healthz');
        const heapNow = sample(await r.metrics(), 'nodejs_heap_size_used_bytes');
        expect(heapNow - heapBefore).toBeLessThan(16 * 1024 * 1024);
      },
      { timeout: 15_000, interval: 100 },
    );
  });
});

describe('/metrics', () => {
  it('needs an admin key on PORT, where the probes stay open; OPS_PORT serves all three', async () => {
    const a = r.client();
    expect((await send(a, r.port, 'GET', '/metrics')).status).toBe(401);
    expect((await send(a, r.port, 'GET', '/metrics', [bearer(API_KEY)])).status).toBe(401);
    const admin = await send(a, r.port, 'GET', '/metrics', [bearer(ADMIN_KEY)]);
    expect(admin.status).toBe(200);
    expect(admin.body).toContain('relay_requests_rejected_total');
    expect((await send(a, r.port, 'GET', '/healthz')).status).toBe(200);
    expect((await send(a, r.port, 'GET', '/readyz')).status).toBe(200);
    expect(await r.metrics()).toContain('relay_requests_rejected_total');
    expect((await fetch(`http://127.0.0.1:${r.opsPort}/readyz`)).status).toBe(200);
  });
});
