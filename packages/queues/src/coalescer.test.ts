import { describe, expect, it } from 'vitest';
import { Coalescer } from './coalescer.js';

/** A run() whose batches the test releases by hand, so what is in flight is known at every step. */
function manualRun() {
  const batches: { items: number[]; answer: (out: (number | Error)[]) => void; fail: (e: unknown) => void }[] = [];
  const run = (items: number[]) =>
    new Promise<(number | Error)[]>((answer, fail) => {
      batches.push({ items, answer, fail });
    });
  return { run, batches };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('Coalescer', () => {
  it('sends the first call at once and everything submitted while it is in flight as the next batch', async () => {
    const { run, batches } = manualRun();
    const c = new Coalescer(run);
    const first = c.submit(1);
    await settle();
    expect(batches.map((b) => b.items)).toEqual([[1]]);
    const rest = [2, 3, 4].map((n) => c.submit(n));
    await settle();
    expect(batches).toHaveLength(1); // nothing more goes while the first batch is in flight
    batches[0]!.answer([10]);
    expect(await first).toBe(10);
    await settle();
    expect(batches.map((b) => b.items)).toEqual([[1], [2, 3, 4]]);
    batches[1]!.answer([20, 30, 40]);
    expect(await Promise.all(rest)).toEqual([20, 30, 40]);
  });

  it('caps a batch and answers each item on its own: an Error fails only its item', async () => {
    const { run, batches } = manualRun();
    const c = new Coalescer(run, { maxBatch: 2, maxInFlight: 2 });
    const calls = [1, 2, 3].map((n) => c.submit(n));
    await settle();
    expect(batches.map((b) => b.items)).toEqual([[1, 2], [3]]);
    batches[0]!.answer([1, new Error('no')]);
    batches[1]!.fail(new Error('connection lost'));
    const out = await Promise.allSettled(calls);
    expect(out.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as Error).message))).toEqual([1, 'no', 'connection lost']);
  });

  it('caps a batch by weight, but always takes at least one item', async () => {
    const { run, batches } = manualRun();
    const c = new Coalescer(run, { maxBatchWeight: 10, weigh: (n) => n, maxInFlight: 3 });
    const calls = [4, 5, 6, 20, 1].map((n) => c.submit(n));
    await settle();
    expect(batches.map((b) => b.items)).toEqual([[4, 5], [6], [20]]);
    for (const b of batches) b.answer(b.items);
    await settle();
    expect(batches.map((b) => b.items)).toEqual([[4, 5], [6], [20], [1]]);
    batches[3]!.answer([1]);
    expect(await Promise.all(calls)).toEqual([4, 5, 6, 20, 1]);
  });

  it('fails items a batch left unanswered, and keeps going after a failed batch', async () => {
    const { run, batches } = manualRun();
    const c = new Coalescer(run);
    const a = c.submit(1);
    const b = c.submit(2);
    await settle();
    batches[0]!.answer([1]);
    await expect(a).resolves.toBe(1);
    await expect(b).rejects.toThrow(/answered 1 of 2/);
    const d = c.submit(3);
    await settle();
    batches[1]!.answer([3]);
    await expect(d).resolves.toBe(3);
  });

  it('turns a run() that throws synchronously into failed items', async () => {
    const c = new Coalescer<number, number>(() => {
      throw new Error('bad arguments');
    });
    await expect(c.submit(1)).rejects.toThrow('bad arguments');
  });
});
