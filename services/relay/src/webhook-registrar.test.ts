import { describe, expect, it, vi } from 'vitest';
import { createLogger } from '@cbot-relay/observability';
import { WebhookRegistrar } from './webhook-registrar.js';

const URL_ = 'https://relay.example/webhooks/cbot';
const log = createLogger({ level: 'silent' });

/** A hand-written CBOT: refuses `refusals` registrations, then holds what it is given. */
class FakeCbot {
  held: string | null = null;
  refusals: number;
  readonly registrations: number[] = [];
  gets = 0;
  constructor(refusals: number) {
    this.refusals = refusals;
  }
  async getWebhook() {
    this.gets += 1;
    return { ok: true as const, url: this.held };
  }
  async registerWebhook(url: string) {
    this.registrations.push(performance.now());
    if (this.refusals > 0) {
      this.refusals -= 1;
      return { ok: false, detail: 'HTTP 503' };
    }
    this.held = url;
    return { ok: true, detail: 'HTTP 200' };
  }
}

describe('WebhookRegistrar', () => {
  it('retries with doubling, capped delays until CBOT takes the URL, then only re-checks', async () => {
    const cbot = new FakeCbot(5);
    const gauge = { value: -1, set(v: number) { this.value = v; } };
    // random() = 0: each delay is exactly half its ceiling (equal jitter's lower bound): 10, 20, 40, 40, 40 ms.
    const registrar = WebhookRegistrar.start({ client: cbot, url: URL_, log, gauge, random: () => 0, timings: { baseMs: 20, maxMs: 80, recheckMs: 60_000 } });
    try {
      expect(gauge.value).toBe(0);
      expect(registrar.state).toBe('pending');
      await vi.waitFor(() => expect(registrar.state).toBe('registered'), { timeout: 5_000 });
      expect(gauge.value).toBe(1);
      expect(cbot.held).toBe(URL_);
      const gaps = cbot.registrations.slice(1).map((t, i) => t - cbot.registrations[i]!);
      expect(gaps).toHaveLength(5);
      // Timers never fire early (1 ms of rounding aside); the cap holds the last ones at 40 ms.
      [10, 20, 40, 40, 40].forEach((min, i) => expect(gaps[i]).toBeGreaterThanOrEqual(min - 1));
      expect(Math.max(...gaps)).toBeLessThan(80 * 10);
    } finally {
      await registrar.close();
    }
  });

  it('registers nothing when CBOT already holds the URL, and again as soon as a re-check finds it gone', async () => {
    const cbot = new FakeCbot(0);
    cbot.held = URL_;
    const gauge = { set: vi.fn() };
    const registrar = WebhookRegistrar.start({ client: cbot, url: URL_, log, gauge, timings: { baseMs: 10, maxMs: 10, recheckMs: 20 } });
    try {
      await vi.waitFor(() => expect(registrar.state).toBe('registered'));
      expect(cbot.registrations).toEqual([]);
      cbot.held = null;
      await vi.waitFor(() => expect(cbot.held).toBe(URL_));
      expect(cbot.registrations).toHaveLength(1);
      expect(gauge.set).toHaveBeenLastCalledWith(1);
    } finally {
      await registrar.close();
    }
  });
});
