import { describe, expect, it } from 'vitest';
import type { RelayEvent } from '@cbot-relay/messages';
import { DEFAULT_OPT_KEYWORDS, applyRecipientRules, optKeyword } from './recipient-rules.js';

const msg = (body: unknown, type = 'text') => ({ from: '905551112233', id: 'wamid.A', timestamp: '1700000000', type, text: { body } });

describe('optKeyword', () => {
  it('matches the whole body, trimmed and case-folded', () => {
    for (const body of ['STOP', 'stop', '  Stop\n', 'UNSUBSCRIBE', 'Ｓｔｏｐ']) expect(optKeyword(msg(body), DEFAULT_OPT_KEYWORDS)).toMatchObject({ kind: 'out' });
    for (const body of ['START', ' start ']) expect(optKeyword(msg(body), DEFAULT_OPT_KEYWORDS)).toMatchObject({ kind: 'in' });
    expect(optKeyword(msg('  Stop '), DEFAULT_OPT_KEYWORDS)?.keyword).toBe('Stop');
  });

  it('ignores other texts and other types', () => {
    for (const body of ['stop it', 'please stop', 'STOPP', '', 'st op', 5, null]) expect(optKeyword(msg(body), DEFAULT_OPT_KEYWORDS)).toBeUndefined();
    expect(optKeyword({ ...msg('STOP'), type: 'image' }, DEFAULT_OPT_KEYWORDS)).toBeUndefined();
    expect(optKeyword({ type: 'interactive', interactive: { button_reply: { title: 'STOP' } } }, DEFAULT_OPT_KEYWORDS)).toBeUndefined();
    for (const m of [null, 'STOP', [], {}]) expect(optKeyword(m, DEFAULT_OPT_KEYWORDS)).toBeUndefined();
  });

  it('takes configured keywords', () => {
    const kw = { optOut: ['dur', 'iptal'], optIn: ['başla'] };
    expect(optKeyword(msg('DUR'), kw)).toMatchObject({ kind: 'out' });
    expect(optKeyword(msg('STOP'), kw)).toBeUndefined();
    expect(optKeyword(msg('Başla'), kw)).toMatchObject({ kind: 'in' });
  });
});

describe('applyRecipientRules', () => {
  const received = (data: unknown): RelayEvent => ({ id: 'evt_0123456789abcdef0123456789abcdef', type: 'message.received', occurredAt: '2023-11-14T22:13:20.000Z', receivedAt: '2023-11-14T22:13:21.000Z', data });

  function fake() {
    const calls: unknown[][] = [];
    const recipients = {
      inbound: async (...a: unknown[]) => (calls.push(['inbound', ...a]), true),
      optOut: async (...a: unknown[]) => (calls.push(['out', ...a]), true),
      optIn: async (...a: unknown[]) => (calls.push(['in', ...a]), true),
    };
    return { calls, deps: { recipients, keywords: DEFAULT_OPT_KEYWORDS } };
  }

  it("records the sender's inbound at the message's own time, and opts out on a keyword with a deterministic event", async () => {
    const { calls, deps } = fake();
    const now = 1_800_000_000_000;
    const a = await applyRecipientRules(received({ ...msg('STOP'), from: '+905551112233' }), 'sales', now, deps);
    const b = await applyRecipientRules(received({ ...msg('STOP'), from: '+905551112233' }), 'sales', now, deps);
    expect(calls).toEqual([
      ['inbound', 'sales', '905551112233', 1_700_000_000, now],
      ['out', 'sales', '905551112233', 1_700_000_000_000],
      ['inbound', 'sales', '905551112233', 1_700_000_000, now],
      ['out', 'sales', '905551112233', 1_700_000_000_000],
    ]);
    expect(a).toMatchObject({ type: 'recipient.opted_out', channel: 'sales', data: { to: '905551112233', keyword: 'STOP', messageId: 'wamid.A', at: '2023-11-14T22:13:20.000Z' } });
    expect(a?.id).toMatch(/^evt_[0-9a-f]{32}$/);
    expect(b?.id).toBe(a?.id);
  });

  it('records a plain message without an event, and skips a sender that is not a WhatsApp id', async () => {
    const { calls, deps } = fake();
    expect(await applyRecipientRules(received(msg('hello')), 'default', 1_800_000_000_000, deps)).toBeUndefined();
    expect(await applyRecipientRules(received({ ...msg('STOP'), from: 'abc' }), 'default', 1_800_000_000_000, deps)).toBeUndefined();
    expect(calls).toEqual([['inbound', 'default', '905551112233', 1_700_000_000, 1_800_000_000_000]]);
  });
});
