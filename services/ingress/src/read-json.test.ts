import { describe, expect, it } from 'vitest';
import { HttpError } from './http-error.js';
import { MAX_JSON_DEPTH, isJsonContentType, jsonDepth, readJson } from './read-json.js';

describe('jsonDepth', () => {
  it('counts nesting and ignores brackets in strings', () => {
    expect(jsonDepth('{"a":[1,{"b":2}]}')).toBe(3);
    expect(jsonDepth('{"a":"[[[[{{{{\\"]]]"}')).toBe(1);
    expect(jsonDepth('1')).toBe(0);
  });
});

describe('readJson', () => {
  const code = (raw: unknown) => {
    try {
      readJson(raw);
      return 'ok';
    } catch (err) {
      return (err as HttpError).code;
    }
  };

  it('parses strict UTF-8 JSON', () => {
    expect(readJson(Buffer.from('{"a":"ş"}')).value).toEqual({ a: 'ş' });
  });

  it('refuses invalid UTF-8, broken JSON, empty bodies and deep nesting', () => {
    expect(code(Buffer.from([0x7b, 0xff, 0x7d]))).toBe('invalid_utf8');
    expect(code(Buffer.from('{"a":'))).toBe('invalid_json');
    expect(code(Buffer.alloc(0))).toBe('invalid_json');
    expect(code(Buffer.from('['.repeat(MAX_JSON_DEPTH + 1) + ']'.repeat(MAX_JSON_DEPTH + 1)))).toBe('too_deep');
    expect(code(Buffer.from('['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH)))).toBe('ok');
  });

  it('refuses duplicate and reserved keys with their path, or reports them when asked', () => {
    const err = (() => {
      try {
        readJson(Buffer.from('{"to":"1","type":"text","text":{"body":"a","body":"b"}}'));
      } catch (e) {
        return e as HttpError;
      }
      return undefined;
    })();
    expect(err?.status).toBe(400);
    expect(err?.code).toBe('invalid_json');
    expect(err?.details).toEqual([{ path: 'text.body', message: 'duplicate key' }]);
    expect(code(Buffer.from('{"__proto__":{"admin":true}}'))).toBe('invalid_json');
    const kept = readJson(Buffer.from('{"a":1,"a":2}'), { keys: 'report' });
    expect(kept.value).toEqual({ a: 2 });
    expect(kept.keyIssue).toEqual({ path: 'a', message: 'duplicate key' });
    // Broken JSON is named as such even when the scan saw a duplicate first.
    expect(code(Buffer.from('{"a":1,"a":'))).toBe('invalid_json');
  });

  it('knows JSON content types', () => {
    expect(isJsonContentType('application/json; charset=utf-8')).toBe(true);
    expect(isJsonContentType('application/vnd.api+json')).toBe(true);
    expect(isJsonContentType('text/plain')).toBe(false);
    expect(isJsonContentType(undefined)).toBe(false);
  });
});
