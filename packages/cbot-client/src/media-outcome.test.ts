import { describe, expect, it } from 'vitest';
import { classifyMediaAnswer, classifyMediaNetworkError } from './media-outcome.js';

describe('classifyMediaAnswer', () => {
  it('maps CBOT statuses to what the relay answers', () => {
    expect(classifyMediaAnswer(404, undefined)).toMatchObject({ status: 404, code: 'media_not_found' });
    expect(classifyMediaAnswer(400, { error: { code: 100, error_subcode: 33, message: 'does not exist' } })).toMatchObject({ status: 404 });
    expect(classifyMediaAnswer(500, { errors: [{ code: 1014, title: 'Internal error' }] })).toMatchObject({ status: 502, code: 'cbot_error', message: 'CBOT failed (HTTP 500: Internal error)' });
    expect(classifyMediaAnswer(503, undefined)).toMatchObject({ status: 502, code: 'cbot_error' });
    expect(classifyMediaAnswer(401, undefined)).toMatchObject({ status: 502, code: 'cbot_auth' });
    expect(classifyMediaAnswer(400, { error: { code: 100, message: 'Invalid parameter' } })).toMatchObject({ status: 400, code: 'cbot_rejected' });
    expect(classifyMediaAnswer(429, undefined, '3')).toMatchObject({ status: 429, retryAfter: '3' });
    expect(classifyMediaAnswer(413, undefined)).toMatchObject({ status: 413 });
  });
});

describe('classifyMediaNetworkError', () => {
  it('tells timeouts (504) from other failures (502)', () => {
    expect(classifyMediaNetworkError(Object.assign(new Error('x'), { code: 'UND_ERR_HEADERS_TIMEOUT' }))).toMatchObject({ status: 504, code: 'cbot_timeout' });
    expect(classifyMediaNetworkError(new DOMException('t', 'TimeoutError'))).toMatchObject({ status: 504 });
    expect(classifyMediaNetworkError(new Error('fetch failed', { cause: Object.assign(new Error('c'), { code: 'ECONNREFUSED' }) }))).toMatchObject({ status: 502, code: 'cbot_unreachable' });
  });
});
