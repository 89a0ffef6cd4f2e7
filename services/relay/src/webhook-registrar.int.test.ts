import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCbotSim } from '@cbot-relay/cbot-sim';
import type { CbotSim } from '@cbot-relay/cbot-sim';
import { loadConfig } from '@cbot-relay/config';
import { createLogger, createMetrics } from '@cbot-relay/observability';
import { freePort, startTestRedis, uniquePrefix, waitFor } from '@cbot-relay/testing';
import type { TestRedis } from '@cbot-relay/testing';
import { startRelay } from './relay.js';
import type { Relay } from './relay.js';

const CBOT_KEY = 'registrar-cbot-key';
const HOOK = 'https://relay.example/webhooks/cbot';
const BASIC = `Basic ${Buffer.from('cbot-relay:s3cr3t-pass').toString('base64')}`;

let redis: TestRedis;
let relay: Relay;
let sim: CbotSim | undefined;
let cbotPort: number;

async function startIngress(env: Record<string, string>): Promise<Relay> {
  const config = loadConfig({
    RELAY_ROLES: 'ingress',
    PORT: '0',
    OPS_PORT: '0',
    QUEUE_PREFIX: uniquePrefix('hook'),
    CBOT_API_KEY: CBOT_KEY,
    PUBLIC_WEBHOOK_URL: HOOK,
    CBOT_WEBHOOK_USER: 'cbot-relay',
    CBOT_WEBHOOK_PASS: 's3cr3t-pass',
    ...env,
  });
  return startRelay({
    config,
    redisUrl: redis.url,
    log: createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    metrics: createMetrics(),
    host: '127.0.0.1',
    // Fast enough for a test, slow enough that a lost URL is noticed by a re-check, not a retry.
    webhookTimings: { baseMs: 50, maxMs: 200, recheckMs: 300 },
  });
}

const ops = (path: string) => fetch(`http://127.0.0.1:${relay.opsPort}${path}`);
const readiness = async () => {
  const res = await ops('/readyz');
  return { status: res.status, body: (await res.json()) as { checks: Record<string, unknown> } };
};
const gauge = async () => /^relay_webhook_registered (\d+)$/m.exec(await (await ops('/metrics')).text())?.[1];

beforeAll(async () => {
  redis = await startTestRedis();
  cbotPort = await freePort();
  // CBOT is down when the relay starts: nothing listens on its port yet.
  relay = await startIngress({ CBOT_BASE_URL: `http://127.0.0.1:${cbotPort}/` });
});

afterAll(async () => {
  await relay?.close();
  await sim?.close();
  await redis?.close();
});

describe('webhook registration', () => {
  it('stays pending (and ready) while CBOT is down, and registers once CBOT is up, without a restart', async () => {
    expect(await readiness()).toEqual({ status: 200, body: expect.objectContaining({ checks: expect.objectContaining({ webhook: 'pending' }) }) });
    expect(await gauge()).toBe('0');

    sim = await startCbotSim({ apiKey: CBOT_KEY, port: cbotPort });
    await waitFor(async () => (await gauge()) === '1', { what: 'relay_webhook_registered 1' });
    expect(sim.webhook()).toEqual({ url: HOOK, headers: { Authorization: BASIC } });
    expect((await readiness()).body.checks.webhook).toBe('registered');
  });

  it('registers again when CBOT forgets the URL or holds another one', async () => {
    const cbot = sim!;
    cbot.forgetWebhook();
    expect(cbot.webhook()).toBeUndefined();
    await waitFor(() => cbot.webhook()?.url === HOOK, { what: 'the forgotten URL registered again' });
    expect(cbot.webhook()?.headers).toEqual({ Authorization: BASIC });

    cbot.setWebhook('https://someone-else.example/hook');
    await waitFor(() => cbot.webhook()?.url === HOOK, { what: 'our URL registered over another one' });
    expect(await gauge()).toBe('1');
  });

  it('registers against a CBOT that restarted with no configuration', async () => {
    await sim!.close();
    sim = await startCbotSim({ apiKey: CBOT_KEY, port: cbotPort });
    const restarted = sim;
    expect(restarted.webhook()).toBeUndefined();
    await waitFor(() => restarted.webhook()?.url === HOOK, { what: 'registered with the restarted CBOT' });
    await waitFor(async () => (await gauge()) === '1', { what: 'relay_webhook_registered 1 again' });
  });

  it('refuses to start an ingress with PUBLIC_WEBHOOK_URL but no CBOT to register it with', async () => {
    await expect(startIngress({})).rejects.toThrow('CBOT_BASE_URL: required to register PUBLIC_WEBHOOK_URL');
  });

  it('stops at once while a check hangs on a CBOT that never answers', async () => {
    const sockets: Socket[] = [];
    const hanging = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    try {
      const port = (hanging.address() as AddressInfo).port;
      // CBOT_TIMEOUT_MS 10 s: without aborting the check, close would wait for it.
      const stuck = await startIngress({ CBOT_BASE_URL: `http://127.0.0.1:${port}/`, CBOT_TIMEOUT_MS: '10000' });
      await waitFor(() => sockets.length > 0, { what: 'the registrar calling CBOT' });
      const started = performance.now();
      await stuck.close();
      expect(performance.now() - started).toBeLessThan(3_000);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => hanging.close(resolve));
    }
  });
});
