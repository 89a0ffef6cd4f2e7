import { describe, expect, it } from 'vitest';
import { HttpError } from './http-error.js';
import type { KeyAdmission } from './key-rate-limiter.js';
import type { SendRoutesDeps } from './send-routes.js';
import { admit } from './send-routes.js';

const depsWith = (admitFn: SendRoutesDeps['admit']) => ({ admit: admitFn }) as SendRoutesDeps;
const headersOf = () => {
  const set: Record<string, string> = {};
  return { set, res: { setHeader: (k: string, v: string) => void (set[k] = v) } as never };
};
const admission = (over: Partial<KeyAdmission>): KeyAdmission => ({ allowed: true, limit: 5, windowS: 1, remaining: 4, resetMs: 400, ...over });

describe('admit', () => {
  it('sets the RateLimit fields on an admitted request', async () => {
    const { set, res } = headersOf();
    await admit(depsWith(async () => admission({})), 'crm', res);
    expect(set).toEqual({ 'RateLimit-Policy': '"per-api-key";q=5;w=1', RateLimit: '"per-api-key";r=4;t=1' });
  });

  it('refuses over the rate with 429 rate_limited, Retry-After and the fields', async () => {
    const err = await admit(depsWith(async () => admission({ allowed: false, remaining: 0, resetMs: 2_500 })), 'crm').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect(err).toMatchObject({ status: 429, code: 'rate_limited' });
    expect((err as HttpError).headers).toMatchObject({ 'Retry-After': '3', RateLimit: '"per-api-key";r=0;t=3' });
  });

  it('answers 503 when Redis cannot count the request (fail closed, like the accept itself)', async () => {
    const err = await admit(depsWith(async () => Promise.reject(new Error('Connection is closed.'))), 'crm').catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 503, code: 'unavailable' });
  });

  it('admits with no fields when the limit is off', async () => {
    const { set, res } = headersOf();
    await admit(depsWith(async () => undefined), 'crm', res);
    await admit(depsWith(undefined), 'crm', res);
    expect(set).toEqual({});
  });
});
