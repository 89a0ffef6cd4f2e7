import { describe, expect, it } from 'vitest';
import { checkTemplateSend, countPlaceholders, indexTemplates, templateShape, templatesFromAnswer } from './templates.js';

const ORDER = {
  name: 'order_update',
  language: 'en_US',
  status: 'APPROVED',
  category: 'UTILITY',
  components: [
    { type: 'HEADER', format: 'TEXT', text: 'Order {{1}}' },
    { type: 'BODY', text: 'Hi {{1}}, order {{2}} ships {{3}}. Thanks {{1}}!' },
    { type: 'BUTTONS', buttons: [{ type: 'QUICK_REPLY', text: 'Stop' }, { type: 'URL', text: 'Track', url: 'https://t.example/{{1}}' }] },
  ],
};
const PENDING = { name: 'promo', language: 'en', status: 'pending', components: [{ type: 'BODY', text: 'Sale!' }] };
const index = indexTemplates([ORDER, PENDING, { ...ORDER, language: 'tr' }]);
const text = (n: number) => Array.from({ length: n }, (_, i) => ({ type: 'text', text: `v${i}` }));
const send = (components: unknown[], name = 'order_update', code = 'en_US') => ({ name, language: { policy: 'deterministic', code }, components });
const good = () => [
  { type: 'header', parameters: text(1) },
  { type: 'body', parameters: text(3) },
  { type: 'button', sub_type: 'url', index: '1', parameters: text(1) },
];

describe('countPlaceholders', () => {
  it('counts distinct placeholders, numbered or named', () => {
    expect(countPlaceholders('Hi {{1}}, order {{2}} {{1}}')).toBe(2);
    expect(countPlaceholders('{{ 1 }} and {{first_name}}')).toBe(2);
    expect(countPlaceholders('no params {1} {{}} {{a-b}}')).toBe(0);
    expect(countPlaceholders(undefined)).toBe(0);
    expect(countPlaceholders(42)).toBe(0);
  });
});

describe('templateShape and templatesFromAnswer', () => {
  it('reads both answer shapes', () => {
    expect(templatesFromAnswer({ waba_templates: [ORDER, { junk: true }] })).toEqual([ORDER]);
    expect(templatesFromAnswer({ data: [PENDING], paging: {} })).toEqual([PENDING]);
    expect(templatesFromAnswer({ waba_templates: [{ ...PENDING, language: { policy: 'deterministic', code: 'en' } }] })).toEqual([PENDING]);
    expect(templatesFromAnswer({ templates: [] })).toBeUndefined();
    expect(templatesFromAnswer([ORDER])).toBeUndefined();
  });

  it('counts per component; a media header is not counted', () => {
    expect(templateShape(ORDER)).toEqual({ name: 'order_update', language: 'en_US', status: 'APPROVED', header: 1, body: 3, buttons: [null, 1] });
    expect(templateShape({ name: 'x', language: 'en', status: 'approved', components: [{ type: 'HEADER', format: 'IMAGE' }] })).toMatchObject({ header: null, status: 'APPROVED', body: 0 });
  });
});

describe('checkTemplateSend', () => {
  it('passes a send that matches', () => {
    expect(checkTemplateSend(send(good()), index)).toBeUndefined();
  });

  it('unknown name, then unknown language', () => {
    expect(checkTemplateSend(send(good(), 'nope'), index)).toMatchObject({ code: 'unknown_template', details: [{ path: 'template.name' }] });
    expect(checkTemplateSend(send(good(), 'order_update', 'de'), index)).toMatchObject({
      code: 'unknown_template',
      details: [{ path: 'template.language.code', message: 'languages: en_US, tr' }],
    });
  });

  it('a template that is not APPROVED', () => {
    expect(checkTemplateSend(send([], 'promo', 'en'), index)).toMatchObject({ code: 'template_not_approved', message: expect.stringContaining('PENDING') });
  });

  it('names the expected count of the component that differs', () => {
    const fewer = good();
    fewer[1] = { type: 'body', parameters: text(2) };
    expect(checkTemplateSend(send(fewer), index)).toEqual({
      code: 'template_parameters',
      message: "the template's body takes 3 parameters, the send gives 2",
      details: [{ path: 'template.components.1.parameters', message: 'expected 3 parameters (body)' }],
    });
    expect(checkTemplateSend(send(good().slice(1)), index)).toMatchObject({ code: 'template_parameters', details: [{ path: 'template.components', message: 'expected 1 parameters (header)' }] });
    expect(checkTemplateSend(send(good().slice(0, 2)), index)).toMatchObject({ code: 'template_parameters', message: expect.stringContaining('button 1') });
    const extra = good();
    extra[0] = { type: 'header', parameters: text(2) };
    expect(checkTemplateSend(send(extra), index)).toMatchObject({ code: 'template_parameters', message: expect.stringContaining('header takes 1 parameter,') });
  });
});
