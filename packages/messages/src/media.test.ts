import { describe, expect, it } from 'vitest';
import { MEDIA_MAX_BYTES, eventMedia, mediaRule, mimeEssence } from './media.js';

describe('mediaRule', () => {
  it('knows each kind by its media type, parameters and case aside', () => {
    expect(mediaRule('image/jpeg')).toEqual({ kind: 'image', maxBytes: 5 * 1024 * 1024, mime: 'image/jpeg' });
    expect(mediaRule('Audio/OGG; codecs=opus')?.kind).toBe('audio');
    expect(mediaRule('video/3gpp')?.maxBytes).toBe(16 * 1024 * 1024);
    expect(mediaRule('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')?.kind).toBe('document');
    expect(mediaRule('image/webp')).toEqual({ kind: 'sticker', maxBytes: 500 * 1024, mime: 'image/webp' });
    expect(MEDIA_MAX_BYTES).toBe(100 * 1024 * 1024);
  });

  it('refuses what WhatsApp does not take', () => {
    for (const t of ['image/gif', 'application/zip', 'text/html', '', 'video/quicktime']) expect(mediaRule(t)).toBeUndefined();
    expect(mimeEssence(' Text/Plain ;charset=utf-8')).toBe('text/plain');
  });
});

describe('eventMedia', () => {
  it('points a media message at the relay’s download route for its channel', () => {
    const msg = { type: 'document', document: { id: 'abc-1', mime_type: 'application/pdf', filename: 'f.pdf' } };
    expect(eventMedia(msg, 'sales')).toEqual({ id: 'abc-1', mimeType: 'application/pdf', url: '/v1/media/abc-1?channel=sales' });
    expect(eventMedia({ type: 'voice', voice: { id: '42' } }, 'default')).toEqual({ id: '42', url: '/v1/media/42?channel=default' });
  });

  it('has nothing for other messages or ids that would not fit in a path', () => {
    expect(eventMedia({ type: 'text', text: { body: 'hi' } }, 'default')).toBeUndefined();
    expect(eventMedia({ type: 'image', image: { id: '../x' } }, 'default')).toBeUndefined();
    expect(eventMedia({ type: 'image' }, 'default')).toBeUndefined();
    expect(eventMedia(null, 'default')).toBeUndefined();
  });
});
