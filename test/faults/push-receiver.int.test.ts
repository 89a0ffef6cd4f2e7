import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PushReceiver } from './push-receiver.js';

// The receiver is the suite's judge of push signatures: it must refuse a forged one, not just accept good ones.

const SECRET = `whsec_${Buffer.from('0123456789abcdef0123').toString('base64')}`;
let r: PushReceiver;
beforeAll(async () => {
  r = await PushReceiver.start(SECRET);
});
afterAll(async () => {
  await r.close();
});

function post(id: string, body: string, sign: (ts: string) => string): Promise<Response> {
  const ts = String(Math.floor(Date.now() / 1000));
  return fetch(r.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': sign(ts) },
    body,
  });
}

const body = JSON.stringify({ id: 'evt_1', type: 'message.received', data: { id: 'm1' } });
const mac = (key: Buffer, id: string, ts: string) => `v1,${createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64')}`;

describe('PushReceiver', () => {
  it('acknowledges a correctly signed push and records its event key', async () => {
    const key = Buffer.from(SECRET.slice(6), 'base64');
    expect((await post('evt_1', body, (ts) => mac(key, 'evt_1', ts))).status).toBe(200);
    expect(r.keyOf.get('evt_1')).toBe('message:m1');
    expect(r.acks.get('evt_1')).toBe(1);
  });

  it('refuses a push signed with another key and counts it', async () => {
    const before = r.badSignatures;
    expect((await post('evt_2', body, (ts) => mac(Buffer.from('wrong key'), 'evt_2', ts))).status).toBe(400);
    expect(r.badSignatures).toBe(before + 1);
    expect(r.acks.has('evt_2')).toBe(false);
  });
});
