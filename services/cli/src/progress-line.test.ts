import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ProgressLine, renderProgress } from './progress-line.js';

function stream(isTTY: boolean): Writable & { isTTY: boolean; text: () => string } {
  let text = '';
  const s = new Writable({ write: (chunk: Buffer, _enc, cb) => ((text += chunk.toString()), cb()) });
  return Object.assign(s, { isTTY, text: () => text });
}

const counts = (replayed: number) => ({ replayed, skipped: 0, failed: 0, notFound: 0 });

describe('ProgressLine', () => {
  it('redraws one line on a terminal, at most every 100 ms and always at the end, then ends it', () => {
    const out = stream(true);
    let t = 0;
    const p = new ProgressLine({ out, total: 50, now: () => t });
    for (let i = 1; i <= 50; i++) {
      t += 10;
      p.update(i, counts(i));
    }
    p.done();
    const frames = out.text().split('\r').filter(Boolean);
    // 500 ms of updates: the first, one per 100 ms, and the last.
    expect(frames.length).toBeGreaterThanOrEqual(5);
    expect(frames.length).toBeLessThanOrEqual(7);
    expect(frames.at(-1)).toBe(`${renderProgress(50, 50, counts(50))}\u001b[K\n`);
    expect(out.text().split('\n')).toHaveLength(2);
  });

  it('draws nothing into a pipe, or for a short run', () => {
    const pipe = stream(false);
    const p = new ProgressLine({ out: pipe, total: 1000 });
    p.update(1000, counts(1000));
    p.done();
    expect(pipe.text()).toBe('');
    const tty = stream(true);
    const short = new ProgressLine({ out: tty, total: 3 });
    short.update(3, counts(3));
    short.done();
    expect(tty.text()).toBe('');
  });

  it('renders the bar, the percentage and the counts', () => {
    expect(renderProgress(5, 20, { replayed: 4, skipped: 1, failed: 0, notFound: 0 })).toBe(
      `replaying 5/20 [${'='.repeat(6)}${' '.repeat(18)}] 25% · replayed 4 · skipped 1 · failed 0`,
    );
    expect(renderProgress(0, 0, counts(0))).toContain('100%');
  });
});
