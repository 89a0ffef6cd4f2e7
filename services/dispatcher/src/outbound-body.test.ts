import { describe, expect, it } from 'vitest';
import { outboundBody } from './dispatch-message.js';

const template = { name: 'order_update', language: { code: 'tr' } };
const body = JSON.stringify({ to: '905551112233', recipient_type: 'individual', type: 'text', text: { body: 'hi' }, fallback: { type: 'template', template } });

describe('outboundBody', () => {
  it('strips the fallback from a message sent as itself', () => {
    expect(JSON.parse(outboundBody({ body, fallback: 'has' }))).toEqual({ to: '905551112233', recipient_type: 'individual', type: 'text', text: { body: 'hi' } });
  });

  it('sends the fallback template to the same recipient instead', () => {
    expect(JSON.parse(outboundBody({ body, fallback: 'use' }))).toEqual({ to: '905551112233', recipient_type: 'individual', type: 'template', template });
  });
});
