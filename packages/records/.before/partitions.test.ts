import calculateSlot from 'cluster-key-slot';
import { describe, expect, it } from 'vitest';
import { Partitions, partitionBase } from './partitions.js';

const ID = /^msg_[0-9a-z]{9}[0-9a-f]{16}$/;

describe('Partitions', () => {
  it('keeps the prefix itself as the only base of one partition, and ids as they are', () => {
    const p = new Partitions('{cbot-relay}', 1);
    expect(p.bases).toEqual(['{cbot-relay}']);
    expect(p.stamp('msg_00000000a0123456789abcdef', 0)).toBe('msg_00000000a0123456789abcdef');
    expect(p.ofId('msg_00000000a0123456789abcdef')).toBe(0);
    expect(p.ofRecipient('905551112233')).toBe(0);
  });

  it("gives each partition of a hash-tagged prefix its own tag, k's slot in the k-th n-th of the slot range", () => {
    for (const n of [2, 3, 6, 12, 64]) {
      const bases = new Partitions('{cbot-relay}', n).bases;
      expect(new Set(bases).size).toBe(n);
      bases.forEach((base, k) => {
        expect(base).toMatch(/^\{cbot-relay:p\d+(\.\d+)?\}$/);
        const slot = calculateSlot(`${base}:msg:x`);
        expect(slot).toBeGreaterThanOrEqual(Math.floor((k * 16384) / n));
        expect(slot).toBeLessThan(Math.floor(((k + 1) * 16384) / n));
      });
    }
    // Keys around the tag keep their place: only the tag changes.
    expect(partitionBase('app:{relay}:x', 1, 3)).toMatch(/^app:\{relay:p1(\.\d+)?\}:x$/);
    expect(partitionBase('plain', 2, 3)).toBe('plain:p2');
  });

  it('stamps the partition into a relay id so the id alone finds it, keeping the id shape', () => {
    const p = new Partitions('{r}', 12);
    for (let k = 0; k < 12; k++) {
      const id = p.stamp('msg_00000000a0123456789abcdef', k);
      expect(id).toMatch(ID);
      expect(p.ofId(id)).toBe(k);
    }
  });

  it('spreads recipients over every partition, each always to the same one', () => {
    const p = new Partitions('{r}', 12);
    const counts = new Array<number>(12).fill(0);
    for (let i = 0; i < 12_000; i++) counts[p.ofRecipient(`90555${String(i).padStart(7, '0')}`)]!++;
    expect(Math.min(...counts)).toBeGreaterThan(800);
    expect(Math.max(...counts)).toBeLessThan(1200);
    expect(p.ofRecipient('905551112233')).toBe(p.ofRecipient('905551112233'));
  });

  it('refuses a count outside 1 to 64', () => {
    expect(() => new Partitions('r', 0)).toThrow(/1 to 64/);
    expect(() => new Partitions('r', 65)).toThrow(/1 to 64/);
  });
});
