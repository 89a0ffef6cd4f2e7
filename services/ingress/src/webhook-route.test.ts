import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createLogger, createMetrics } from '@cbot-relay/observability';
import { HttpError } from './http-error.js';
import type { WebhookDeps } from './webhook-route.js';
import { authenticateCallback } from './webhook-route.js';

const BASIC = `Basic ${Buffer.from('cbot:pass-123').toString('base64')}`;
const SIG = `sha256=${'ab'.repeat(32)}`;

function deps(over: Partial<WebhookDeps>): WebhookDeps {
  return {
    basic: { user: 'cbot', pass: 'pass-123' },
    appSecret: 'app-secret',
    maxBodyBytes: 1 << 20,
    enqueue: async () => undefined,
    now: Date.now,
    log: createLogger({ level: 'silent' }),
    metrics: createMetrics(),
    ...over,
  };
}

/** 'signed', 'basic' (or unauthenticated, passed) or the HTTP status it is refused with. */
function outcome(d: WebhookDeps, headers: IncomingHttpHeaders): 'signed' | 'passed' | number {
  try {
    return authenticateCallback(d, headers) ? 'signed' : 'passed';
  } catch (err) {
    return (err as HttpError).status;
  }
}

describe('authenticateCallback (before the body is read)', () => {
  it('lets a well-formed signature stand in for Basic only when an app secret is set', () => {
    expect(outcome(deps({}), { 'x-hub-signature-256': SIG })).toBe('signed');
    expect(outcome(deps({}), { 'x-hub-signature-256': SIG, authorization: BASIC })).toBe('signed');
    expect(outcome(deps({ appSecret: undefined }), { 'x-hub-signature-256': SIG })).toBe(401);
    expect(outcome(deps({ appSecret: undefined }), { 'x-hub-signature-256': SIG, authorization: BASIC })).toBe('passed');
  });

  it('refuses a malformed signature at once, whatever the Basic', () => {
    for (const sig of ['sha256=abc', `sha1=${'ab'.repeat(20)}`, `sha256=${'zz'.repeat(32)}`, `${SIG}, ${SIG}`]) {
      expect(outcome(deps({}), { 'x-hub-signature-256': sig })).toBe(401);
      expect(outcome(deps({}), { 'x-hub-signature-256': sig, authorization: BASIC })).toBe(401);
    }
  });

  it('treats an empty signature header as absent', () => {
    expect(outcome(deps({}), { 'x-hub-signature-256': '', authorization: BASIC })).toBe('passed');
    expect(outcome(deps({}), { 'x-hub-signature-256': '  ' })).toBe(401);
    expect(outcome(deps({ basic: undefined }), { 'x-hub-signature-256': '' })).toBe('passed');
  });

  it('requires Basic when configured and no signature is given', () => {
    expect(outcome(deps({}), {})).toBe(401);
    expect(outcome(deps({}), { authorization: BASIC })).toBe('passed');
    expect(outcome(deps({ basic: undefined, appSecret: undefined }), {})).toBe('passed');
  });
});
