import { describe, expect, it } from 'vitest';
import { rotateSecret, signingSecrets, wantsChannel } from './index.js';
import type { HttpSubscriberRecord } from './index.js';

const hook: HttpSubscriberRecord = {
  name: 'hook',
  kind: 'http',
  url: 'https://example.test/hook',
  secret: 'whsec_A',
  previousSecrets: [],
  types: ['*'],
  enabled: true,
  createdAt: 0,
  updatedAt: 0,
  source: 'api',
};

describe('rotateSecret', () => {
  it('signs with the new and the old secret during the overlap, with the new one only after it', () => {
    const rotated = rotateSecret(hook, 'whsec_B', 60, 1_000);
    expect(signingSecrets(rotated, 1_000)).toEqual(['whsec_B', 'whsec_A']);
    expect(signingSecrets(rotated, 60_999)).toEqual(['whsec_B', 'whsec_A']);
    expect(signingSecrets(rotated, 61_000)).toEqual(['whsec_B']);
  });

  it('drops the old secret at once with no overlap, and keeps earlier ones still in theirs', () => {
    expect(signingSecrets(rotateSecret(hook, 'whsec_B', 0, 1_000), 1_000)).toEqual(['whsec_B']);
    const twice = rotateSecret(rotateSecret(hook, 'whsec_B', 60, 1_000), 'whsec_C', 10, 2_000);
    expect(signingSecrets(twice, 2_000)).toEqual(['whsec_C', 'whsec_B', 'whsec_A']);
    expect(signingSecrets(twice, 12_000)).toEqual(['whsec_C', 'whsec_A']);
  });

  it('keeps at most four secrets and never lists the current one as an old one', () => {
    let sub = hook;
    for (const s of ['B', 'C', 'D', 'E', 'F']) sub = rotateSecret(sub, `whsec_${s}`, 60, 1_000);
    expect(signingSecrets(sub, 1_000)).toEqual(['whsec_F', 'whsec_E', 'whsec_D', 'whsec_C']);
    expect(signingSecrets(rotateSecret(sub, 'whsec_E', 60, 1_000), 1_000)).toEqual(['whsec_E', 'whsec_F', 'whsec_D', 'whsec_C']);
  });
});

describe('wantsChannel', () => {
  it('takes every channel without a list or with "*", and reads an event without one as "default"', () => {
    expect(wantsChannel({}, 'sales')).toBe(true);
    expect(wantsChannel({ channels: ['*'] }, 'sales')).toBe(true);
    expect(wantsChannel({ channels: ['sales'] }, 'sales')).toBe(true);
    expect(wantsChannel({ channels: ['sales'] }, 'support')).toBe(false);
    expect(wantsChannel({ channels: ['sales'] }, undefined)).toBe(false);
    expect(wantsChannel({ channels: ['default'] }, undefined)).toBe(true);
  });
});
