import { describe, expect, it } from 'vitest';
import { CODE_POLICY, classifyNetworkError, classifyResponse, parseRetryAfter } from './index.js';

const onPrem = (code: number, title = 't') => ({ errors: [{ code, title }] });
const cloud = (code: number) => ({ error: { message: 'm', type: 'OAuthException', code, fbtrace_id: 'x' } });

describe('classifyResponse', () => {
  it('reads the CBOT message id on success', () => {
    expect(classifyResponse(200, { messages: [{ id: 'wamid.1' }] }, undefined)).toEqual({ kind: 'sent', wamid: 'wamid.1', httpStatus: 200 });
  });

  it('does not resend a 2xx it cannot read', () => {
    expect(classifyResponse(200, { ok: true }, undefined).kind).toBe('permanent');
  });

  it.each([130429, 80007, 4])('treats Cloud code %i as throttling of the whole sender even with HTTP 400', (code) => {
    expect(classifyResponse(400, cloud(code), undefined)).toMatchObject({ kind: 'throttled', scope: 'sender' });
  });

  it('takes a restriction over a throttle, and a stop over a quality pause', () => {
    expect(classifyResponse(400, { errors: [{ code: 130429 }, { code: 131048 }] }, 1000)).toMatchObject({ kind: 'restricted', action: 'quality', retryAfterMs: 1000 });
    expect(classifyResponse(400, { errors: [{ code: 131048 }, { code: 368 }] }, undefined)).toMatchObject({ kind: 'restricted', action: 'stop' });
  });

  it('treats 131056 (pair rate limit) as throttling of that recipient alone', () => {
    expect(classifyResponse(400, cloud(131056), 3000)).toMatchObject({ kind: 'throttled', scope: 'recipient', retryAfterMs: 3000 });
    // Next to a sender-wide code, the wider scope wins.
    expect(classifyResponse(400, { errors: [{ code: 131056 }, { code: 130429 }] }, undefined)).toMatchObject({ scope: 'sender' });
  });

  it('treats 429 as throttling and keeps Retry-After', () => {
    expect(classifyResponse(429, onPrem(1015), 2000)).toMatchObject({ kind: 'throttled', scope: 'sender', retryAfterMs: 2000, error: { code: 1015 } });
    expect(classifyResponse(429, undefined, undefined)).toMatchObject({ kind: 'throttled', scope: 'sender' });
  });

  it.each([500, 502, 503, 504, 408])('retries HTTP %i', (status) => {
    expect(classifyResponse(status, undefined, undefined)).toMatchObject({ kind: 'retryable', ambiguous: false });
  });

  it('retries transient codes under a 4xx and keeps permanent codes under a 5xx apart', () => {
    expect(classifyResponse(400, onPrem(1014), undefined).kind).toBe('retryable');
    expect(classifyResponse(400, cloud(131000), undefined).kind).toBe('retryable');
    expect(classifyResponse(500, onPrem(1009), undefined).kind).toBe('retryable');
  });

  it.each([400, 401, 403, 404, 422])('does not retry HTTP %i without a retryable code', (status) => {
    expect(classifyResponse(status, onPrem(1009, 'Parameter value is not valid'), undefined)).toMatchObject({
      kind: 'permanent',
      httpStatus: status,
      error: { code: 1009, title: 'Parameter value is not valid' },
    });
  });

  it('records a permanent WhatsApp error such as 131047 (re-engagement)', () => {
    expect(classifyResponse(400, cloud(131047), undefined)).toMatchObject({ kind: 'permanent', error: { code: 131047 } });
  });
});

/**
 * Every code the policy knows, written out (not read from CODE_POLICY): dropping one from the table,
 * or changing what it does, fails here. Cloud style: whatever the code, HTTP 400.
 */
const EXPECTED_POLICY: [number, Record<string, unknown>][] = [
  [131056, { kind: 'throttled', scope: 'recipient' }],
  [130429, { kind: 'throttled', scope: 'sender' }],
  [80007, { kind: 'throttled', scope: 'sender' }],
  [4, { kind: 'throttled', scope: 'sender' }],
  [1015, { kind: 'throttled', scope: 'sender' }],
  [131048, { kind: 'restricted', action: 'quality' }],
  [368, { kind: 'restricted', action: 'stop' }],
  [131031, { kind: 'restricted', action: 'stop' }],
  [1, { kind: 'retryable', ambiguous: false }],
  [2, { kind: 'retryable', ambiguous: false }],
  [131000, { kind: 'retryable', ambiguous: false }],
  [131016, { kind: 'retryable', ambiguous: false }],
  [133004, { kind: 'retryable', ambiguous: false }],
  [1011, { kind: 'retryable', ambiguous: false }],
  [1014, { kind: 'retryable', ambiguous: false }],
  [1016, { kind: 'retryable', ambiguous: false }],
  [1023, { kind: 'retryable', ambiguous: false }],
];

describe('CODE_POLICY, code by code', () => {
  it.each(EXPECTED_POLICY)('code %i under HTTP 400 (Cloud style) is %o', (code, expected) => {
    expect(classifyResponse(400, cloud(code), undefined)).toMatchObject({ ...expected, httpStatus: 400, error: { code } });
    // The On-Premises body shape classifies the same.
    expect(classifyResponse(400, onPrem(code), undefined)).toMatchObject(expected);
  });

  it('lists exactly the codes above', () => {
    expect([...CODE_POLICY.keys()].sort((a, b) => a - b)).toEqual(EXPECTED_POLICY.map(([c]) => c).sort((a, b) => a - b));
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and dates, caps at an hour', () => {
    expect(parseRetryAfter('2', 0)).toBe(2000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter('999999', 0)).toBe(3_600_000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
    expect(parseRetryAfter(undefined, 0)).toBeUndefined();
  });
});

describe('classifyNetworkError', () => {
  it('knows a refused connection never reached CBOT', () => {
    expect(classifyNetworkError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })).ambiguous).toBe(false);
  });
  it('calls a reset or timeout ambiguous', () => {
    expect(classifyNetworkError(Object.assign(new Error('x'), { code: 'ECONNRESET' })).ambiguous).toBe(true);
    expect(classifyNetworkError(new DOMException('timeout', 'TimeoutError')).ambiguous).toBe(true);
  });
});
