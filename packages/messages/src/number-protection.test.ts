import { describe, expect, it } from 'vitest';
import { channelEvent, numberProtection, qualityFromCallback } from './index.js';

describe('numberProtection', () => {
  it('names the protection each code calls for, the strongest when several come together', () => {
    expect(numberProtection([131056])).toBe('pair');
    expect(numberProtection([130429])).toBe('throughput');
    expect(numberProtection([131048])).toBe('quality');
    expect(numberProtection([368])).toBe('stop');
    expect(numberProtection([131031])).toBe('stop');
    expect(numberProtection([131056, 130429])).toBe('throughput');
    expect(numberProtection([131048, 131031, 4])).toBe('stop');
    expect(numberProtection([131047, 1009])).toBeUndefined();
    expect(numberProtection([])).toBeUndefined();
  });
});

describe('qualityFromCallback', () => {
  const cloud = (value: unknown, field = 'phone_number_quality_update') => ({ object: 'whatsapp_business_account', entry: [{ id: '1', changes: [{ field, value }] }] });

  it('reads a rating, else the event; the last change wins', () => {
    expect(qualityFromCallback(cloud({ event: 'FLAGGED', current_limit: 'TIER_1K' }))).toBe('RED');
    expect(qualityFromCallback(cloud({ event: 'UNFLAGGED', current_limit: 'TIER_1K' }))).toBe('GREEN');
    expect(qualityFromCallback(cloud({ event: 'DOWNGRADE' }))).toBe('RED');
    expect(qualityFromCallback(cloud({ event: 'UPGRADE' }))).toBe('GREEN');
    expect(qualityFromCallback(cloud({ event: 'FLAGGED', quality_rating: 'yellow' }))).toBe('YELLOW');
    expect(qualityFromCallback(cloud({ quality: 'MEDIUM' }))).toBe('YELLOW');
    const two = { entry: [{ changes: [{ field: 'phone_number_quality_update', value: { event: 'FLAGGED' } }, { field: 'phone_number_quality_update', value: { event: 'UNFLAGGED' } }] }] };
    expect(qualityFromCallback(two)).toBe('GREEN');
  });

  it('says nothing for other callbacks and odd shapes', () => {
    expect(qualityFromCallback(cloud({ event: 'ONBOARDING' }))).toBeUndefined();
    expect(qualityFromCallback(cloud({ event: 'FLAGGED' }, 'messages'))).toBeUndefined();
    expect(qualityFromCallback({ statuses: [] })).toBeUndefined();
    for (const odd of [null, 'x', 1, [], { entry: 'x' }, { entry: [null, { changes: 'x' }, { changes: [null, { field: 'phone_number_quality_update', value: 'x' }] }] }]) {
      expect(qualityFromCallback(odd)).toBeUndefined();
    }
  });
});

describe('channelEvent', () => {
  it('announces a change with data {channel, reason, code, until}, its id fixed by the channel and the change number', () => {
    const paused = channelEvent('sales', { state: 'paused', reason: 'quality', code: 131048, untilMs: Date.UTC(2026, 0, 1, 0, 15), seq: 7, atMs: Date.UTC(2026, 0, 1) }, 0);
    expect(paused).toEqual({
      id: expect.stringMatching(/^evt_[0-9a-f]{32}$/),
      type: 'channel.paused',
      occurredAt: '2026-01-01T00:00:00.000Z',
      receivedAt: '2026-01-01T00:00:00.000Z',
      channel: 'sales',
      data: { channel: 'sales', reason: 'quality', code: 131048, until: '2026-01-01T00:15:00.000Z' },
    });
    expect(channelEvent('sales', { state: 'paused', reason: 'quality', seq: 7 }, 5).id).toBe(paused.id);
    expect(channelEvent('sales', { state: 'paused', seq: 8 }, 5).id).not.toBe(paused.id);
    expect(channelEvent('support', { state: 'paused', seq: 7 }, 5).id).not.toBe(paused.id);
    expect(channelEvent('sales', { state: 'stopped', reason: 'restricted', code: 368, seq: 9 }, 5)).toMatchObject({ type: 'channel.stopped', data: { until: null, code: 368 } });
    expect(channelEvent('sales', { state: 'active', reason: 'operator', seq: 10 }, 5)).toMatchObject({ type: 'channel.resumed', data: { reason: 'operator', code: null, until: null } });
  });
});
