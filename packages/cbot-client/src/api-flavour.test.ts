import { describe, expect, it } from 'vitest';
import { markReadRequest, messageBody, messagesPath } from './api-flavour.js';
import { classifyReadResponse, classifyResponse } from './classify.js';

describe('CBOT API flavours', () => {
  it('sends to v1/messages on-premises and to messages on Cloud', () => {
    expect(messagesPath('onprem')).toBe('v1/messages');
    expect(messagesPath('cloud')).toBe('messages');
  });

  it('adds messaging_product for Cloud only, keeping the caller text', () => {
    const body = ' {"to":"905551112233","type":"text","text":{"body":"a \\"messaging_product\\" b"}}';
    expect(messageBody('onprem', body)).toBe(body);
    const cloud = messageBody('cloud', body);
    expect(cloud).toBe('{"messaging_product":"whatsapp","to":"905551112233","type":"text","text":{"body":"a \\"messaging_product\\" b"}}');
    expect(JSON.parse(cloud)).toEqual({ messaging_product: 'whatsapp', ...JSON.parse(body) });
    const given = '{"messaging_product":"whatsapp","to":"1","type":"text","text":{"body":"x"}}';
    expect(messageBody('cloud', given)).toBe(given);
  });

  it("adds the relay id as biz_opaque_callback_data on Cloud only, never over the caller's own", () => {
    const body = '{"to":"905551112233","type":"text","text":{"body":"x"}}';
    expect(messageBody('onprem', body, 'r1')).toBe(body);
    expect(messageBody('cloud', body, 'r"1')).toBe('{"messaging_product":"whatsapp","biz_opaque_callback_data":"r\\"1","to":"905551112233","type":"text","text":{"body":"x"}}');
    expect(JSON.parse(messageBody('cloud', body, 'r1'))).toEqual({ messaging_product: 'whatsapp', biz_opaque_callback_data: 'r1', ...JSON.parse(body) });
    const own = '{"biz_opaque_callback_data":"mine","to":"1","type":"text","text":{"body":"x"}}';
    expect(JSON.parse(messageBody('cloud', own, 'r1'))).toMatchObject({ biz_opaque_callback_data: 'mine' });
    expect(messageBody('cloud', '{}', 'r1')).toBe('{"messaging_product":"whatsapp","biz_opaque_callback_data":"r1"}');
  });

  it('reads a Cloud success body and Graph error bodies by WhatsApp code', () => {
    const ok = { messaging_product: 'whatsapp', contacts: [{ input: '905551112233', wa_id: '905551112233' }], messages: [{ id: 'wamid.C1' }] };
    expect(classifyResponse(200, ok, undefined)).toEqual({ kind: 'sent', wamid: 'wamid.C1', httpStatus: 200 });
    const graph = (code: number) => ({ error: { message: `(#${code}) x`, type: 'OAuthException', code, error_data: { messaging_product: 'whatsapp', details: 'd' }, fbtrace_id: 'f' } });
    // Throttling arrives with HTTP 400 on Cloud: the code decides, not the status.
    expect(classifyResponse(400, graph(130429), undefined)).toMatchObject({ kind: 'throttled', scope: 'sender', httpStatus: 400, error: { code: 130429, details: 'd' } });
    expect(classifyResponse(400, graph(131056), undefined)).toMatchObject({ kind: 'throttled', scope: 'recipient' });
    expect(classifyResponse(400, graph(131026), undefined)).toMatchObject({ kind: 'permanent', error: { code: 131026, message: '(#131026) x' } });
    expect(classifyResponse(500, graph(131000), undefined)).toMatchObject({ kind: 'retryable', ambiguous: false });
  });

  it('marks a message read: PUT with status read on-premises (no typing there), POST with message_id on Cloud', () => {
    expect(markReadRequest('onprem', 'gBEGkYiEB1VXAglK1ZEqA1YKPrU', true)).toEqual({ method: 'PUT', path: 'v1/messages/gBEGkYiEB1VXAglK1ZEqA1YKPrU', body: '{"status":"read"}' });
    expect(markReadRequest('onprem', 'wamid.a/b+c=', false).path).toBe('v1/messages/wamid.a%2Fb%2Bc%3D');
    expect(JSON.parse(markReadRequest('cloud', 'wamid.X', false).body)).toEqual({ messaging_product: 'whatsapp', status: 'read', message_id: 'wamid.X' });
    expect(markReadRequest('cloud', 'wamid.X', true)).toMatchObject({ method: 'POST', path: 'messages' });
    expect(JSON.parse(markReadRequest('cloud', 'wamid.X', true).body)).toEqual({
      messaging_product: 'whatsapp',
      status: 'read',
      message_id: 'wamid.X',
      typing_indicator: { type: 'text' },
    });
  });

  it('takes any 2xx to a mark-read as done, and its refusals by WhatsApp code like a send', () => {
    expect(classifyReadResponse(200, { success: true }, undefined)).toEqual({ kind: 'read', httpStatus: 200 });
    expect(classifyReadResponse(200, undefined, undefined)).toEqual({ kind: 'read', httpStatus: 200 });
    expect(classifyReadResponse(503, undefined, 2000)).toMatchObject({ kind: 'retryable', retryAfterMs: 2000 });
    expect(classifyReadResponse(400, { error: { code: 130429, message: 'x' } }, undefined)).toMatchObject({ kind: 'throttled', scope: 'sender' });
    expect(classifyReadResponse(404, { errors: [{ code: 1006, title: 'Resource not found' }] }, undefined)).toMatchObject({ kind: 'permanent', error: { code: 1006 } });
  });
});
