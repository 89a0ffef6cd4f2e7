import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OUTBOUND_TYPES, OutboundMessage, validateOutboundMessage } from './outbound.js';

const samples = new URL('./testdata/samples/outbound/', import.meta.url);
const readJson = (dir: string, name: string): unknown =>
  JSON.parse(readFileSync(new URL(`${dir}/${name}`, samples), 'utf8'));
const jsonFiles = (dir: string) => readdirSync(new URL(`${dir}/`, samples)).filter((f) => f.endsWith('.json'));

function issuesOf(body: unknown) {
  const result = validateOutboundMessage(body);
  if (result.ok) throw new Error('expected the body to be refused');
  return result.issues;
}
const pathsOf = (body: unknown) => issuesOf(body).map((i) => i.path);

const to = '905551112233';
const buttons = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ type: 'reply', reply: { id: `b${i}`, title: `B${i}` } }));
const list = (sections: unknown) => ({
  to,
  type: 'interactive',
  interactive: {
    type: 'list',
    header: { type: 'text', text: 'Şubeler' },
    body: { text: 'Bir şube seçin' },
    footer: { text: 'Kadıköy' },
    action: { button: 'Seç', sections },
  },
});

describe('validateOutboundMessage with the shared samples', () => {
  it.each(jsonFiles('valid'))('accepts valid/%s unchanged', (file) => {
    const body = readJson('valid', file);
    expect(validateOutboundMessage(body)).toEqual({ ok: true, message: body });
  });

  it.each(jsonFiles('invalid'))('refuses invalid/%s naming the expected field', (file) => {
    const { body, expectFieldInError } = readJson('invalid', file) as { body: unknown; expectFieldInError: string };
    expect(pathsOf(body)).toContain(expectFieldInError);
  });
});

describe('validateOutboundMessage', () => {
  it('accepts every media type by link as well as by id', () => {
    for (const type of ['image', 'audio', 'video', 'document', 'sticker']) {
      expect(validateOutboundMessage({ to, type, [type]: { link: 'https://cdn.example.com/a' } }).ok).toBe(true);
      expect(validateOutboundMessage({ to, type, [type]: { id: 'media-1' } }).ok).toBe(true);
    }
  });

  it('refuses media with neither id nor link at the media object', () => {
    expect(issuesOf({ to, type: 'sticker', sticker: {} })).toEqual([{ path: 'sticker', message: 'needs an id or a link' }]);
  });

  it('accepts a video caption and a document caption and filename', () => {
    expect(validateOutboundMessage({ to, type: 'video', video: { id: 'v1', caption: 'Kurulum' } }).ok).toBe(true);
    const document = { link: 'https://cdn.example.com/a.pdf', caption: 'Fatura', filename: 'a.pdf' };
    expect(validateOutboundMessage({ to, type: 'document', document }).ok).toBe(true);
  });

  it('accepts a reaction with an emoji and with "" (removal)', () => {
    for (const emoji of ['👍', '']) {
      expect(validateOutboundMessage({ to, type: 'reaction', reaction: { message_id: 'wamid.1', emoji } }).ok).toBe(true);
    }
    expect(pathsOf({ to, type: 'reaction', reaction: { message_id: 'wamid.1' } })).toEqual(['reaction.emoji']);
  });

  it('accepts a list message and a reply with context', () => {
    const rows = [{ id: 'moda', title: 'Moda', description: 'Caferağa Mah.' }, { id: 'bostanci', title: 'Bostancı' }];
    expect(validateOutboundMessage(list([{ title: 'İstanbul', rows }])).ok).toBe(true);
    const reply = { to, type: 'text', text: { body: 'Tamam' }, context: { message_id: 'wamid.9' } };
    expect(validateOutboundMessage(reply).ok).toBe(true);
  });

  it('enforces list limits: sections, rows in all, title and description lengths', () => {
    const row = (i: number) => ({ id: `r${i}`, title: `Row ${i}` });
    expect(pathsOf(list([]))).toEqual(['interactive.action.sections']);
    expect(pathsOf(list(Array.from({ length: 11 }, (_, i) => ({ rows: [row(i)] }))))).toContain(
      'interactive.action.sections',
    );
    const sixAndSix = [0, 1].map(() => ({ rows: Array.from({ length: 6 }, (_, i) => row(i)) }));
    expect(pathsOf(list(sixAndSix))).toEqual(['interactive.action.sections']);
    const long = { id: 'x', title: 't'.repeat(25), description: 'd'.repeat(73) };
    expect(pathsOf(list([{ rows: [long] }]))).toEqual([
      'interactive.action.sections.0.rows.0.title',
      'interactive.action.sections.0.rows.0.description',
    ]);
  });

  it('accepts 1..3 reply buttons and refuses 0 or 4 at action.buttons', () => {
    const button = (n: number) => ({
      to,
      type: 'interactive',
      interactive: { type: 'button', body: { text: 'Seç' }, action: { buttons: buttons(n) } },
    });
    expect(validateOutboundMessage(button(1)).ok).toBe(true);
    expect(validateOutboundMessage(button(3)).ok).toBe(true);
    expect(issuesOf(button(4))).toEqual([{ path: 'interactive.action.buttons', message: 'must have at most 3 items' }]);
    expect(pathsOf(button(0))).toEqual(['interactive.action.buttons']);
  });

  it('counts characters as code points: 20 emoji make a valid button title', () => {
    const title = '👍'.repeat(20);
    const body = { to, type: 'interactive', interactive: { type: 'button', body: { text: 'x' }, action: { buttons: [{ type: 'reply', reply: { id: '1', title } }] } } };
    expect(validateOutboundMessage(body).ok).toBe(true);
    body.interactive.action.buttons[0]!.reply.title = `${title}!`;
    expect(pathsOf(body)).toEqual(['interactive.action.buttons.0.reply.title']);
  });

  it('refuses an unknown interactive type, listing the allowed ones', () => {
    expect(issuesOf({ to, type: 'interactive', interactive: { type: 'carousel' } })).toEqual([
      { path: 'interactive.type', message: 'must be one of: button, list' },
    ]);
  });

  it('keeps unknown keys and returns the caller object itself', () => {
    const body = { biz_opaque_callback_data: 'ref-42', to, type: 'text', text: { body: 'hi', x_tag: 1 } };
    const result = validateOutboundMessage(body);
    expect(result.ok && result.message).toBe(body);
    expect(JSON.stringify(result.ok && result.message)).toBe(JSON.stringify(body));
  });

  it('does not add recipient_type and refuses anything but "individual"', () => {
    const result = validateOutboundMessage({ to, type: 'text', text: { body: 'hi' } });
    expect(result.ok && 'recipient_type' in result.message).toBe(false);
    expect(pathsOf({ to, recipient_type: 'group', type: 'text', text: { body: 'hi' } })).toEqual(['recipient_type']);
  });

  it('refuses an unknown or missing type with a message listing the types', () => {
    for (const body of [{ to, type: 'hologram' }, { to }, { to, type: 7 }]) {
      const issues = issuesOf(body);
      expect(issues).toEqual([{ path: 'type', message: `must be one of: ${OUTBOUND_TYPES.join(', ')}` }]);
    }
  });

  it('refuses a body that is not a JSON object', () => {
    for (const body of [null, undefined, 'text', 42, true, [], [{ to, type: 'text' }]]) {
      expect(issuesOf(body)).toEqual([{ path: '', message: 'body must be a JSON object' }]);
    }
  });

  it('reports numeric path segments and empty strings', () => {
    const body = { to: '', type: 'contacts', contacts: [{ name: { formatted_name: 'A' } }, { name: {} }] };
    expect(issuesOf(body)).toEqual([
      { path: 'to', message: 'must not be empty' },
      { path: 'contacts.1.name.formatted_name', message: 'required' },
    ]);
  });

  it('checks location coordinates are numbers in range', () => {
    expect(pathsOf({ to, type: 'location', location: { latitude: 91, longitude: -181 } })).toEqual([
      'location.latitude',
      'location.longitude',
    ]);
  });

  it('never echoes the offending value in messages', () => {
    const secret = 'TCKN-12345678901';
    const bodies = [
      { to, type: 'text', text: { body: secret.repeat(300) } },
      { to: 905551112233, type: 'text', text: { body: secret } },
      { to, type: secret },
      { to, type: 'location', location: { latitude: secret, longitude: 1 } },
      { to, recipient_type: secret, type: 'text', text: { body: 'x' } },
    ];
    for (const body of bodies) {
      for (const issue of issuesOf(body)) expect(issue.message).not.toContain('TCKN');
    }
  });

  it('declares one schema option per OUTBOUND_TYPES entry', () => {
    expect(OutboundMessage.options.map((o) => o.shape.type.value)).toEqual([...OUTBOUND_TYPES]);
  });

  it('checks `to` is a WhatsApp id of at most 15 digits, + and surrounding whitespace allowed', () => {
    for (const ok of ['905551112233', '+905551112233', ' 905551112233\n', '1', '123456789012345']) {
      expect(validateOutboundMessage({ to: ok, type: 'text', text: { body: 'x' } }).ok).toBe(true);
    }
    for (const bad of ['1234567890123456', '+90 555 111 22 33', '90555-1112233', '++905551112233', 'abc', ' ', '9'.repeat(70_000)]) {
      expect(issuesOf({ to: bad, type: 'text', text: { body: 'x' } }).map((i) => i.path)).toEqual(['to']);
    }
  });

  it('bounds text at 4,096 characters and captions at 1,024, counted in code points', () => {
    const text = (body: string) => ({ to, type: 'text', text: { body } });
    expect(validateOutboundMessage(text('ş'.repeat(4096))).ok).toBe(true);
    expect(validateOutboundMessage(text('👍'.repeat(4096))).ok).toBe(true);
    expect(issuesOf(text('x'.repeat(4097)))).toEqual([{ path: 'text.body', message: 'must be at most 4096 characters' }]);
    for (const type of ['image', 'video', 'document']) {
      const body = (caption: string) => ({ to, type, [type]: { id: '1', caption } });
      expect(validateOutboundMessage(body('c'.repeat(1024))).ok).toBe(true);
      expect(pathsOf(body('c'.repeat(1025)))).toEqual([`${type}.caption`]);
    }
  });

  it('bounds ids, links and filenames, and wants links to be http(s) URLs', () => {
    const doc = (document: object) => ({ to, type: 'document', document });
    expect(pathsOf(doc({ id: '1'.repeat(257) }))).toEqual(['document.id']);
    expect(pathsOf(doc({ link: `https://cdn.example.com/${'a'.repeat(2048)}` }))).toEqual(['document.link']);
    expect(issuesOf(doc({ link: 'file:///etc/passwd' }))).toEqual([{ path: 'document.link', message: 'must be an http(s) URL' }]);
    expect(pathsOf(doc({ link: 'https://cdn.example.com/a.pdf', filename: 'f'.repeat(256) }))).toEqual(['document.filename']);
    const reply = { to, type: 'text', text: { body: 'x' }, context: { message_id: 'w'.repeat(257) } };
    expect(pathsOf(reply)).toEqual(['context.message_id']);
  });

  it('bounds template name (512) and language code', () => {
    const template = (name: string, code: string) => ({ to, type: 'template', template: { name, language: { code } } });
    expect(validateOutboundMessage(template('n'.repeat(512), 'pt_BR')).ok).toBe(true);
    expect(pathsOf(template('n'.repeat(513), 'x'.repeat(17)))).toEqual(['template.name', 'template.language.code']);
  });

  it('bounds interactive header, body, footer, button ids and titles', () => {
    const interactive = (over: object) => ({
      to,
      type: 'interactive',
      interactive: { type: 'button', body: { text: 'b' }, action: { buttons: buttons(1) }, ...over },
    });
    expect(pathsOf(interactive({ header: { type: 'text', text: 'h'.repeat(61) } }))).toEqual(['interactive.header.text']);
    expect(pathsOf(interactive({ header: { type: 'image', image: { link: 'nope' } } }))).toEqual(['interactive.header.image.link']);
    expect(pathsOf(interactive({ body: { text: 'b'.repeat(1025) } }))).toEqual(['interactive.body.text']);
    expect(pathsOf(interactive({ footer: { text: 'f'.repeat(61) } }))).toEqual(['interactive.footer.text']);
    const button = { type: 'reply', reply: { id: 'i'.repeat(257), title: 't'.repeat(21) } };
    expect(pathsOf(interactive({ action: { buttons: [button] } }))).toEqual([
      'interactive.action.buttons.0.reply.id',
      'interactive.action.buttons.0.reply.title',
    ]);
  });

  it('bounds location and contact text fields', () => {
    const location = { latitude: 41, longitude: 29, name: 'n'.repeat(1025), address: 'Moda' };
    expect(pathsOf({ to, type: 'location', location })).toEqual(['location.name']);
    const card = {
      name: { formatted_name: 'A'.repeat(1025) },
      phones: [{ phone: '9'.repeat(65) }],
      emails: [{ email: `${'e'.repeat(320)}@x` }],
      birthday: '1 Ocak 1990',
    };
    expect(pathsOf({ to, type: 'contacts', contacts: [card] })).toEqual([
      'contacts.0.name.formatted_name',
      'contacts.0.phones.0.phone',
      'contacts.0.emails.0.email',
      'contacts.0.birthday',
    ]);
  });

  it('takes one emoji as a reaction, ZWJ sequences and flags included, and refuses two', () => {
    const reaction = (emoji: string) => ({ to, type: 'reaction', reaction: { message_id: 'wamid.1', emoji } });
    for (const emoji of ['👍🏽', '👨‍👩‍👧‍👦', '🇹🇷', '']) expect(validateOutboundMessage(reaction(emoji)).ok).toBe(true);
    for (const emoji of ['👍👍', 'ok', '👍'.repeat(40)]) expect(pathsOf(reaction(emoji))).toEqual(['reaction.emoji']);
  });

  it('still keeps unknown keys at every level within the limits', () => {
    const body = { to, type: 'image', image: { id: '1', new_field: 'x'.repeat(10_000) }, new_top: { a: 1 } };
    expect(validateOutboundMessage(body).ok).toBe(true);
  });
});
