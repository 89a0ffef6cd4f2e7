import { describe, expect, it } from 'vitest';
import { verifyStandardWebhook } from './test-support/verify-standard-webhook.js';
import { signWebhook, signingKey, webhookHeaders } from './webhook-signature.js';

// The Standard Webhooks specification's published test vector.
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const TS = 1614265330;
const BODY = '{"test": 2432232314}';

describe('Standard Webhooks signing', () => {
  it('reproduces the specification test vector', () => {
    expect(signWebhook(signingKey(SECRET), ID, TS, BODY)).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('builds headers an independent verifier accepts, and that fail on any change', () => {
    const nowMs = TS * 1000 + 999;
    const headers = webhookHeaders(signingKey(SECRET), ID, nowMs, BODY);
    expect(headers).toMatchObject({ 'content-type': 'application/json', 'webhook-id': ID, 'webhook-timestamp': String(TS) });
    expect(verifyStandardWebhook(SECRET, headers, BODY, TS)).toBe(true);
    expect(verifyStandardWebhook(SECRET, headers, BODY.replace('2', '3'), TS)).toBe(false);
    expect(verifyStandardWebhook(SECRET, { ...headers, 'webhook-id': 'msg_other' }, BODY, TS)).toBe(false);
    expect(verifyStandardWebhook('whsec_c2VjcmV0LW9mLWFub3RoZXItZW5kcG9pbnQ=', headers, BODY, TS)).toBe(false);
    // Outside the verifier's 5-minute tolerance.
    expect(verifyStandardWebhook(SECRET, headers, BODY, TS + 301)).toBe(false);
  });

  it('uses the UTF-8 bytes of a raw (non-whsec) secret as the key', () => {
    expect(signingKey('a-long-shared-secret').toString('utf8')).toBe('a-long-shared-secret');
    const headers = webhookHeaders(signingKey('a-long-shared-secret'), ID, TS * 1000, BODY);
    expect(verifyStandardWebhook('a-long-shared-secret', headers, BODY, TS)).toBe(true);
  });
});
