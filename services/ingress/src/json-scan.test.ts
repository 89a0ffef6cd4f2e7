import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scanJson } from './json-scan.js';

const issue = (text: string) => scanJson(text).keyIssue;

describe('scanJson', () => {
  it('finds duplicate keys at any depth and names their path', () => {
    expect(issue('{"to":"1","to":"2"}')).toEqual({ path: 'to', message: 'duplicate key' });
    expect(issue('{"a":{"b":1,"c":[{"d":1},{"e":2,"e":3}]}}')).toEqual({ path: 'a.c.1.e', message: 'duplicate key' });
    expect(issue('{"text":{"body":"x","preview_url":true,"body":"y"}}')).toEqual({ path: 'text.body', message: 'duplicate key' });
  });

  it('compares keys as JSON.parse reads them (escapes decoded)', () => {
    expect(issue('{"a":1,"\\u0061":2}')).toEqual({ path: 'a', message: 'duplicate key' });
    expect(issue('{"__pro\\u0074o__":{}}')).toEqual({ path: '__proto__', message: 'reserved key' });
  });

  it('finds reserved keys anywhere', () => {
    for (const k of ['__proto__', 'constructor', 'prototype']) {
      expect(issue(`{"a":[1,{"${k}":{"x":1}}]}`)).toEqual({ path: `a.1.${k}`, message: 'reserved key' });
    }
  });

  it('does not take string values, escaped quotes or brackets in strings for keys', () => {
    expect(issue('{"a":"a","b":"\\"a\\"","c":["a","a"],"d":"{\\"a\\":1,\\"a\\":2}","e":"x\\\\","f":1}')).toBeUndefined();
    expect(issue('{"a":{"x":1},"b":{"x":1}}')).toBeUndefined();
    expect(issue('[{"a":1},{"a":1}]')).toBeUndefined();
  });

  it('finds a duplicate among many keys (Set past a few keys)', () => {
    const keys = Array.from({ length: 5000 }, (_, i) => `"k${i}":${i}`);
    expect(issue(`{${keys.join(',')}}`)).toBeUndefined();
    expect(issue(`{${keys.join(',')},"k4321":0}`)).toEqual({ path: 'k4321', message: 'duplicate key' });
  });

  it('ends on broken input', () => {
    expect(scanJson('{"a":"unterminated').keyIssue).toBeUndefined();
    expect(scanJson('}}]]{"a":1,"a":2').keyIssue).toEqual({ path: 'a', message: 'duplicate key' });
  });

  it('shows at most 64 printable characters of a key', () => {
    const long = 'k'.repeat(500);
    expect(issue(`{"${long}":1,"${long}":2}`)?.path).toBe(`${'k'.repeat(64)}…`);
    expect(issue('{"a\\n":1,"a\\n":2}')?.path).toBe('a?');
  });

  it('agrees with JSON.parse on generated documents: no issue without a duplicate or reserved key', () => {
    const reserved = new Set(['__proto__', 'constructor', 'prototype']);
    const hasReserved = (v: unknown): boolean =>
      typeof v === 'object' && v !== null && Object.entries(v).some(([k, x]) => reserved.has(k) || hasReserved(x));
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = JSON.stringify(v);
        expect(issue(text) !== undefined).toBe(hasReserved(v));
      }),
      { numRuns: 2000 },
    );
  });

  it('finds a duplicate injected into any generated object', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue(), { minKeys: 1 }), fc.nat(), (obj, n) => {
        const keys = Object.keys(obj).filter((k) => !['__proto__', 'constructor', 'prototype'].includes(k));
        fc.pre(keys.length > 0);
        const key = keys[n % keys.length]!;
        const text = JSON.stringify(obj);
        const doubled = `${text.slice(0, -1)},${JSON.stringify(key)}:null}`;
        expect(issue(doubled)?.message).toBeDefined();
      }),
      { numRuns: 1000 },
    );
  });
});
