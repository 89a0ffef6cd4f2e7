import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startCbotSim, type CbotSim } from './index.js';
import { Slots } from './slots.js';

const send = (sim: CbotSim, to: string) =>
  fetch(`${sim.url}v1/messages`, {
    method: 'POST',
    headers: { authorization: 'Bearer k1' },
    body: JSON.stringify({ to, type: 'text', text: { body: 'x' } }),
  });

describe('memory bounds', () => {
  it('keeps at most maxRecorded messages, dropping the oldest, while counting all', async () => {
    await using sim = await startCbotSim({ apiKey: 'k1', maxRecorded: 10, knobs: { statusCallbacks: false } });
    for (let i = 0; i < 25; i++) await send(sim, String(1000 + i));
    const kept = sim.received().map((m) => Number(m.to));
    expect(kept.length).toBeLessThanOrEqual(10);
    expect(kept.at(-1)).toBe(1024);
    expect(kept).toEqual([...kept].sort((a, b) => a - b));
    expect(sim.counters().accepted).toBe(25);
  });

  it('skips status callbacks past maxPendingStatus and counts them', async () => {
    const receiver = createServer((req, res) => req.resume().on('end', () => res.writeHead(200).end()));
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    await using sim = await startCbotSim({
      apiKey: 'k1',
      maxPendingStatus: 2,
      webhook: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/` },
      knobs: { statusDelaysMs: [60_000, 60_000, 60_000] },
    });
    for (let i = 0; i < 5; i++) await send(sim, '1');
    expect(sim.counters()).toMatchObject({ accepted: 5, statusCallbacksSkipped: 3 });
    receiver.close();
  });

  it('Slots hands slots to waiters in order and fails them on close', async () => {
    const slots = new Slots(1);
    expect(await slots.acquire()).toBe(true);
    const order: string[] = [];
    const a = slots.acquire().then((ok) => order.push(`a:${ok}`));
    const b = slots.acquire().then((ok) => order.push(`b:${ok}`));
    slots.release();
    await a;
    slots.close();
    await b;
    expect(order).toEqual(['a:true', 'b:false']);
  });
});
