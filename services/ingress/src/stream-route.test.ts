import { describe, expect, it } from 'vitest';
import type { StreamLine } from './stream-route.js';
import { splitLines } from './stream-route.js';

async function split(chunks: string[], max: number): Promise<(string | number)[][]> {
  const out: StreamLine[] = [];
  async function* source() {
    for (const c of chunks) yield Buffer.from(c);
  }
  for await (const line of splitLines(source(), max)) out.push(line);
  return out.map((l) => ('tooLong' in l ? [l.n, 'too long'] : [l.n, l.bytes.toString()]));
}

describe('splitLines', () => {
  it('numbers every line from 1, skips blank ones, drops a CR before the LF, keeps a last line without LF', async () => {
    expect(await split(['a\n\nb\r\n  \nc'], 10)).toEqual([[1, 'a'], [3, 'b'], [5, 'c']]);
  });

  it('joins a line split over chunks', async () => {
    expect(await split(['ab', 'cd\ne', 'f\n'], 10)).toEqual([[1, 'abcd'], [2, 'ef']]);
  });

  it('marks a line over the limit once it ends, holding none of it, and goes on', async () => {
    expect(await split(['12345', '6789012\nok\n', 'x'.repeat(20)], 10)).toEqual([[1, 'too long'], [2, 'ok'], [3, 'too long']]);
    expect(await split(['1234567890\r\n'], 10)).toEqual([[1, '1234567890']]);
    expect(await split(['12345678901\n'], 10)).toEqual([[1, 'too long']]);
  });
});
