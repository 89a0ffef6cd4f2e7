import { afterEach, describe, expect, it } from 'vitest';
import { startCbotSim, type CbotSim, type CbotSimOptions } from './index.js';

const text = { recipient_type: 'individual', to: '905551112233', type: 'text', text: { body: 'Merhaba' } };
const bearer = { authorization: 'Bearer k1' };
let sim: CbotSim | undefined;

afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function start(opts: Partial<CbotSimOptions> = {}): Promise<CbotSim> {
  sim = await startCbotSim({ apiKey: 'k1', knobs: { statusCallbacks: false }, ...opts });
  return sim;
}

async function send(s: CbotSim, body: unknown, headers: Record<string, string> = bearer) {
  const res = await fetch(`${s.url}v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
}

describe('POST /v1/messages', () => {
  it('accepts a valid message with the WhatsApp answer shape and records it as received', async () => {
    const s = await start();
    const res = await send(s, text, { ...bearer, 'x-trace': 't1' });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      messages: [{ id: expect.stringMatching(/^wamid\./) }],
      meta: { api_status: 'stable', version: '2.53.1' },
    });
    const [received] = s.received();
    expect(received).toMatchObject({ to: '905551112233', type: 'text', body: text, answerDropped: false });
    expect(received?.wamid).toBe((res.json.messages as Array<{ id: string }>)[0]?.id);
    expect(received?.headers['x-trace']).toBe('t1');
    expect(received?.headers.authorization).toBeUndefined();
    expect(Date.parse(received?.receivedAt ?? '')).not.toBeNaN();
  });

  it('gives every message a unique wamid and keeps arrival order', async () => {
    const s = await start();
    for (const to of ['1001', '1002', '1003']) await send(s, { ...text, to });
    expect(s.received().map((m) => m.to)).toEqual(['1001', '1002', '1003']);
    expect(new Set(s.received().map((m) => m.wamid)).size).toBe(3);
  });

  it.each([
    ['missing header', {}],
    ['wrong key', { authorization: 'Bearer nope' }],
    ['key without Bearer', { authorization: 'k1' }],
  ])('answers 401 Access denied for a %s', async (_name, headers) => {
    const s = await start();
    const res = await send(s, text, headers);
    expect(res.status).toBe(401);
    expect(res.json).toEqual({ errors: [{ code: 1005, title: 'Access denied', details: 'Invalid credentials.' }] });
    expect(s.received()).toHaveLength(0);
    expect(s.attempts()).toBe(1);
  });

  it('reads the raw key from a custom header such as D360-API-KEY', async () => {
    const s = await start({ apiKeyHeader: 'D360-API-KEY' });
    expect((await send(s, text, { 'D360-API-KEY': 'k1' })).status).toBe(200);
    expect((await send(s, text, bearer)).status).toBe(401);
    expect((await send(s, text, { 'D360-API-KEY': 'Bearer k1' })).status).toBe(401);
    expect(s.received()[0]?.headers['d360-api-key']).toBeUndefined();
  });

  it.each([
    ['not JSON', '{', 'body'],
    ['not an object', '[1]', 'body'],
    ['missing to', { type: 'text', text: { body: 'x' } }, 'to'],
    ['numeric to', { to: 905551112233, type: 'text', text: { body: 'x' } }, 'to'],
    ['missing type', { to: '1', text: { body: 'x' } }, 'type'],
    ['content under another key', { to: '1', type: 'image', text: { body: 'x' } }, 'image'],
    ['contacts not an array', { to: '1', type: 'contacts', contacts: {} }, 'contacts'],
  ])('answers 400 naming the field for %s', async (_name, body, field) => {
    const s = await start();
    const res = await send(s, body);
    expect(res.status).toBe(400);
    const [error] = res.json.errors as Array<{ code: number; details: string }>;
    expect(error?.code).toBe(1009);
    expect(error?.details.startsWith(`${field}:`)).toBe(true);
    expect(s.received()).toHaveLength(0);
  });

  it('accepts contacts as an array', async () => {
    const s = await start();
    expect((await send(s, { to: '1', type: 'contacts', contacts: [{ name: { formatted_name: 'A' } }] })).status).toBe(200);
  });
});
