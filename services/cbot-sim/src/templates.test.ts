import { afterEach, describe, expect, it } from 'vitest';
import { startCbotSim, type CbotSim } from './index.js';
import { statusPayload } from './status-payload.js';
import { AccountEventRequest, accountEvent, defaultTemplates } from './templates.js';

const sims: CbotSim[] = [];
afterEach(async () => {
  for (const s of sims.splice(0)) await s.close();
});

async function start(api: 'onprem' | 'cloud'): Promise<CbotSim> {
  const s = await startCbotSim({ api, apiKey: 'k1', knobs: { statusCallbacks: false } });
  sims.push(s);
  return s;
}
const get = async (s: CbotSim, path: string, key = 'Bearer k1') => {
  const res = await fetch(`${s.url}${path}`, { headers: { authorization: key } });
  return { status: res.status, json: (await res.json()) as any };
};

describe('GET /v1/configs/templates', () => {
  it('lists approved and pending templates in each API\'s shape; needs the key; knob templatesFail answers 500', async () => {
    const onprem = await start('onprem');
    const a = await get(onprem, 'v1/configs/templates');
    expect(a.status).toBe(200);
    expect(a.json.waba_templates.map((t: any) => [t.name, t.status])).toEqual([
      ['order_update', 'approved'],
      ['otp_code', 'approved'],
      ['hello_world', 'approved'],
      ['order_shipped', 'approved'],
      ['spring_sale', 'pending'],
    ]);
    const cloud = await start('cloud');
    const b = await get(cloud, 'v1/configs/templates');
    expect(b.json.data.find((t: any) => t.name === 'spring_sale')).toMatchObject({ status: 'PENDING', language: 'en_US' });
    expect((await get(cloud, 'v1/configs/templates', 'Bearer nope')).status).toBe(401);
    cloud.setKnobs({ templatesFail: true });
    expect((await get(cloud, 'v1/configs/templates')).status).toBe(500);
  });

  it('a template_status event without a webhook is refused and changes nothing', async () => {
    const s = await start('onprem');
    const res = await fetch(`${s.url}_sim/account-event`, { method: 'POST', body: JSON.stringify({ kind: 'template_status', template: 'spring_sale', event: 'APPROVED' }) });
    // No webhook registered: refused, and nothing changed.
    expect(res.status).toBe(409);
    expect((await get(s, 'v1/configs/templates')).json.waba_templates.at(-1).status).toBe('pending');
    const bad = await fetch(`${s.url}_sim/account-event`, { method: 'POST', body: JSON.stringify({ kind: 'nope' }) });
    expect(bad.status).toBe(400);
  });
});

describe('account events and pricing payloads', () => {
  it('builds each field with its documented value', () => {
    const t = defaultTemplates();
    const field = (body: unknown) => accountEvent(AccountEventRequest.parse(body), t, 1717236000);
    expect(field({ kind: 'template_status' }).payload).toMatchObject({
      entry: [{ time: 1717236000, changes: [{ field: 'message_template_status_update', value: { event: 'APPROVED', message_template_name: 'spring_sale', message_template_id: 1000000000000004 } }] }],
    });
    expect(field({ kind: 'template_quality' }).field).toBe('message_template_quality_update');
    expect(field({ kind: 'phone_number_quality', event: 'DOWNGRADE' }).payload).toMatchObject({ entry: [{ changes: [{ value: { event: 'DOWNGRADE' } }] }] });
    for (const kind of ['account_update', 'account_alerts', 'account_review_update']) expect(field({ kind }).field).toBe(kind);
    expect(field({ kind: 'account_update', value: { x: 1 } }).payload).toMatchObject({ entry: [{ changes: [{ value: { x: 1 } }] }] });
  });

  it('puts On-Premises pricing (CBP) or Cloud pricing (PMP with type) on sent and delivered', () => {
    const input = { wamid: 'w', recipientId: '9055', timestamp: 1, conversationId: 'c', expiresAt: 2, category: 'service' };
    expect(statusPayload({ ...input, status: 'sent' }).statuses[0]!.pricing).toEqual({ billable: true, pricing_model: 'CBP', category: 'service' });
    expect(statusPayload({ ...input, status: 'delivered', cloud: true }).statuses[0]!.pricing).toEqual({
      billable: false,
      pricing_model: 'PMP',
      category: 'service',
      type: 'free_customer_service',
    });
    expect(statusPayload({ ...input, category: 'utility', status: 'sent', cloud: true }).statuses[0]!.pricing).toMatchObject({ billable: true, type: 'regular' });
    expect(statusPayload({ ...input, status: 'read', cloud: true }).statuses[0]!.pricing).toBeUndefined();
  });
});
