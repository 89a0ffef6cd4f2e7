import { describe, expect, it } from 'vitest';
import { pricingFromStatus } from './pricing.js';

const status = (extra: object) => ({ id: 'wamid.1', status: 'sent', timestamp: '1717236000', ...extra });

describe('pricingFromStatus', () => {
  it('Cloud pricing with type is taken as given', () => {
    expect(pricingFromStatus(status({ pricing: { billable: true, pricing_model: 'PMP', category: 'marketing', type: 'regular' } }))).toEqual({
      billable: true,
      model: 'PMP',
      category: 'marketing',
      type: 'regular',
    });
    expect(pricingFromStatus(status({ pricing: { billable: false, pricing_model: 'PMP', category: 'utility', type: 'free_customer_service' } }))).toEqual({
      billable: false,
      model: 'PMP',
      category: 'utility',
      type: 'free_customer_service',
    });
  });

  it('without type: service is free customer service, referral_conversion free entry point, others regular', () => {
    expect(pricingFromStatus(status({ pricing: { billable: false, pricing_model: 'CBP', category: 'service' } }))).toMatchObject({ category: 'service', type: 'free_customer_service', billable: false });
    expect(pricingFromStatus(status({ pricing: { billable: true, pricing_model: 'CBP', category: 'utility' } }))).toMatchObject({ category: 'utility', type: 'regular', billable: true });
    expect(pricingFromStatus(status({ pricing: { billable: false, pricing_model: 'CBP', category: 'referral_conversion' } }))).toMatchObject({ category: 'service', type: 'free_entry_point' });
  });

  it('On-Premises: old category names and the conversation origin', () => {
    expect(pricingFromStatus(status({ conversation: { id: 'c1', origin: { type: 'user_initiated' } }, pricing: { billable: true, pricing_model: 'CBP', category: 'user_initiated' } }))).toEqual({
      billable: true,
      model: 'CBP',
      category: 'service',
      type: 'regular',
    });
    expect(pricingFromStatus(status({ conversation: { id: 'c1', origin: { type: 'authentication' } } }))).toEqual({
      billable: true,
      model: null,
      category: 'authentication',
      type: 'regular',
    });
    expect(pricingFromStatus(status({ conversation: { id: 'c1', origin: { type: 'user_initiated' } } }))).toMatchObject({ category: 'service', type: 'free_customer_service', billable: false });
    expect(pricingFromStatus(status({ pricing: { category: 'authentication_international', pricing_model: 'PMP' } }))).toMatchObject({ category: 'authentication' });
  });

  it('no pricing is undefined; odd values are bounded', () => {
    expect(pricingFromStatus(status({}))).toBeUndefined();
    expect(pricingFromStatus(null)).toBeUndefined();
    expect(pricingFromStatus(status({ pricing: 'free' }))).toBeUndefined();
    expect(pricingFromStatus(status({ pricing: { category: 'x'.repeat(500), pricing_model: 'y'.repeat(100), billable: 'yes' } }))).toEqual({
      billable: false,
      model: null,
      category: 'unknown',
      type: 'regular',
    });
    expect(pricingFromStatus(status({ pricing: { category: 'MARKETING', type: 'weird' } }))).toMatchObject({ category: 'marketing', type: 'regular' });
  });
});
