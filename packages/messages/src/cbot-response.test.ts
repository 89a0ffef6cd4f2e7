import { describe, expect, it } from 'vitest';
import { CbotSendSuccess, extractCbotErrors } from './cbot-response.js';

describe('CbotSendSuccess', () => {
  it('accepts the On-Premises and the Cloud answer', () => {
    expect(CbotSendSuccess.safeParse({ messages: [{ id: 'gBEGkFVVURIjAglUkoXGn5bLqiA' }] }).success).toBe(true);
    const cloud = {
      messaging_product: 'whatsapp',
      contacts: [{ input: '905551112233', wa_id: '905551112233' }],
      messages: [{ id: 'wamid.HBgM', message_status: 'accepted' }],
    };
    expect(CbotSendSuccess.parse(cloud)).toEqual(cloud);
  });

  it('tolerates an odd contacts value but needs a message id', () => {
    expect(CbotSendSuccess.safeParse({ contacts: 'x', messages: [{ id: 'a' }] }).success).toBe(true);
    for (const body of [{}, { messages: [] }, { messages: [{}] }, { messages: [{ id: 7 }] }, null]) {
      expect(CbotSendSuccess.safeParse(body).success).toBe(false);
    }
  });
});

describe('extractCbotErrors', () => {
  it('reads the On-Premises errors array', () => {
    const body = {
      meta: { api_status: 'stable' },
      errors: [{ code: 1006, title: 'Resource not found', details: 'unknown contact', href: 'https://x' }],
    };
    expect(extractCbotErrors(body)).toEqual([{ code: 1006, title: 'Resource not found', details: 'unknown contact' }]);
  });

  it('reads the Cloud error object: title from message, details from error_data', () => {
    const body = {
      error: {
        message: '(#130429) Rate limit hit',
        type: 'OAuthException',
        code: 130429,
        error_subcode: 2494055,
        error_data: { messaging_product: 'whatsapp', details: 'Cloud API message throughput has been reached.' },
        fbtrace_id: 'Az8or2yhqkZfEZ-_4Qn_Bam',
      },
    };
    expect(extractCbotErrors(body)).toEqual([
      { code: 130429, title: '(#130429) Rate limit hit', details: 'Cloud API message throughput has been reached.' },
    ]);
  });

  it('coerces numeric string codes and skips entries without a usable code', () => {
    const body = { errors: [{ code: '131056' }, { code: 'abc' }, { title: 'no code' }, null, { code: 1.5 }, { code: 470, title: 5 }] };
    expect(extractCbotErrors(body)).toEqual([{ code: 131056 }, { code: 470 }]);
    expect(extractCbotErrors({ error: { code: ' 131047 ', message: 'Re-engagement' } })).toEqual([
      { code: 131047, title: 'Re-engagement' },
    ]);
  });

  it('reads the errors of a failed status callback', () => {
    const status = { id: 'gBEG', status: 'failed', errors: [{ code: 470, title: 'Window closed' }] };
    expect(extractCbotErrors(status)).toEqual([{ code: 470, title: 'Window closed' }]);
  });

  it('returns [] for anything else and never throws', () => {
    const odd = [undefined, null, 0, 'errors', [], [{ code: 1 }], {}, { errors: 'x' }, { errors: {} }, { error: 'x' },
      { error: [] }, { error: { code: null } }, JSON.parse('{"__proto__":{"errors":[{"code":1}]}}')];
    for (const body of odd) expect(extractCbotErrors(body)).toEqual([]);
  });
});
