import { unpack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { batchCall, packRows } from './batch.js';

describe('packRows', () => {
  it('writes msgpack that a standard decoder reads back, at every length boundary', () => {
    const rows = [
      [0, 127, 128, 65_535, 65_536, 4_294_967_295],
      ['', 'é', 'x'.repeat(31), 'x'.repeat(32), 'x'.repeat(255), 'x'.repeat(256), 'ü'.repeat(40_000)],
      Array.from({ length: 20 }, (_, i) => String(i)),
    ];
    expect(unpack(packRows(rows))).toEqual(rows);
    const many = Array.from({ length: 70_000 }, () => [1]);
    expect(unpack(packRows(many))).toEqual(many);
  });

  it('writes bytes as str, raw', () => {
    const bytes = Buffer.from([0x93, 0xc4, 0xff, 0x00]);
    const packed = packRows([[bytes]]);
    expect(packed.subarray(0, 3)).toEqual(Buffer.from([0x91, 0x91, 0xa4]));
    expect(packed.subarray(3)).toEqual(bytes);
  });

  it('refuses numbers it cannot carry', () => {
    expect(() => packRows([[-1]])).toThrow();
    expect(() => packRows([[1.5]])).toThrow();
  });
});

describe('batchCall', () => {
  it('declares each key once and names it by position; numbers travel as strings', () => {
    const call = batchCall(
      [
        { keys: ['a', 'lane'], args: [1, 'x'] },
        { keys: ['b', 'lane'], args: [2, 'y'] },
      ],
      { keysPerItem: 2, argsPerItem: 2 },
    );
    expect(call.keys).toEqual(['a', 'lane', 'b']);
    expect(unpack(call.args[0])).toEqual([
      [1, 2, '1', 'x'],
      [3, 2, '2', 'y'],
    ]);
    expect(() => batchCall([{ keys: ['a'], args: [] }], { keysPerItem: 2, argsPerItem: 2 })).toThrow(/1 keys and 0 args/);
  });
});
