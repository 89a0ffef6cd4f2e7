import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { startCbotSim } from './index.js';

describe('startCbotSim', () => {
  it('serves on a base URL with a trailing slash', async () => {
    await using sim = await startCbotSim({ apiKey: 'k1' });
    expect(sim.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect((await fetch(`${sim.url}healthz`)).status).toBe(200);
  });

  it('rejects invalid knobs and an empty key up front', async () => {
    await expect(startCbotSim({ apiKey: 'k1', knobs: { errorRate: 2 } })).rejects.toThrow(/errorRate/);
    await expect(startCbotSim({ apiKey: '' })).rejects.toThrow(/apiKey/);
    await using sim = await startCbotSim({ apiKey: 'k1' });
    expect(() => sim.setKnobs({ latencyMs: -5 })).toThrow(/latencyMs/);
  });

  it('closes idempotently and cancels pending status callbacks and retries', async () => {
    const hits: string[] = [];
    const receiver = createServer((req, res) => {
      hits.push(req.url ?? '');
      req.resume();
      res.writeHead(500).end();
    });
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    const sim = await startCbotSim({
      apiKey: 'k1',
      webhook: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook` },
      knobs: { statusDelaysMs: [60_000, 60_000, 60_000], callbackRetry: { attempts: 10, initialDelayMs: 60_000, maxDelayMs: 60_000 } },
    });
    const res = await fetch(`${sim.url}v1/messages`, {
      method: 'POST',
      headers: { authorization: 'Bearer k1' },
      body: JSON.stringify({ to: '1', type: 'text', text: { body: 'x' } }),
    });
    expect(res.status).toBe(200);
    const { done } = await sim.deliverCallback({ a: 1 });
    await vi.waitFor(() => expect(hits).toHaveLength(1));

    const started = performance.now();
    await Promise.all([sim.close(), sim.close()]);
    await sim.close();
    await sim[Symbol.asyncDispose]();
    expect(performance.now() - started).toBeLessThan(1_000);
    expect((await done).deliveries[0]?.state).toBe('cancelled');
    await expect(fetch(`${sim.url}healthz`)).rejects.toThrow();
    expect(hits).toHaveLength(1);
    receiver.close();
  });

  it('reset cancels pending callback retries and clears the log', async () => {
    const receiver = createServer((req, res) => req.resume().on('end', () => res.writeHead(500).end()));
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    await using sim = await startCbotSim({
      apiKey: 'k1',
      webhook: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/` },
      knobs: { callbackRetry: { attempts: 10, initialDelayMs: 60_000, maxDelayMs: 60_000 } },
    });
    const { done } = await sim.deliverCallback({ a: 1 });
    await vi.waitFor(() => expect(sim.callbacks()[0]?.attempts).toBe(1));
    sim.reset();
    expect((await done).deliveries[0]?.state).toBe('cancelled');
    expect(sim.callbacks()).toEqual([]);
    receiver.close();
  });
});
