import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { chooseLogFormat, createLogger } from './index.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { lines, stream };
}

describe('createLogger', () => {
  it('writes JSON with the error under err and redacts credentials and bodies', () => {
    const { lines, stream } = capture();
    const log = createLogger({ stream, level: 'info' });
    log.info(
      { req: { headers: { authorization: 'Bearer sekret-key-123' } }, apiKey: 'sekret-key-123', body: { text: 'hi' } },
      'hello',
    );
    log.error({ err: new Error('boom') }, 'failed');
    const all = lines.join('');
    expect(all).not.toContain('sekret-key-123');
    expect(all).not.toContain('"hi"');
    const [first, second] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(first?.level).toBe('info');
    expect((second?.err as { message: string }).message).toBe('boom');
  });
});

describe('createLogger, pretty format', () => {
  it('prints human-readable lines, not JSON, and still redacts credentials and bodies', () => {
    const { lines, stream } = capture();
    const log = createLogger({ stream, level: 'info', format: 'pretty' });
    log.info(
      {
        req: { headers: { authorization: 'Bearer sekret-key-123' } },
        apiKey: 'sekret-key-123',
        body: { text: 'hi there' },
        sub: { secret: 'whsec_sekret' },
        messageId: 'msg_42',
      },
      'hello',
    );
    log.error({ err: new Error('boom') }, 'failed');
    const all = lines.join('');
    expect(all).not.toContain('sekret-key-123');
    expect(all).not.toContain('hi there');
    expect(all).not.toContain('whsec_sekret');
    expect(all).toContain('[redacted]');
    expect(all).toContain('msg_42');
    expect(all).toMatch(/INFO.*hello/);
    expect(all).toMatch(/ERROR.*failed/);
    expect(all).toContain('boom');
    expect(() => JSON.parse(lines[0] ?? '')).toThrow();
    // Not colourised unless asked: the lines go to a file or a pipe as plain text.
    expect(all).not.toContain('\u001b[');
  });

  it('colourises when asked (a terminal)', () => {
    const { lines, stream } = capture();
    createLogger({ stream, format: 'pretty', colorize: true }).warn('careful');
    expect(lines.join('')).toContain('\u001b[');
  });
});

describe('chooseLogFormat', () => {
  it('is pretty on a terminal and JSON elsewhere unless LOG_FORMAT forces one', () => {
    expect(chooseLogFormat('auto', true)).toBe('pretty');
    expect(chooseLogFormat('auto', false)).toBe('json');
    expect(chooseLogFormat('json', true)).toBe('json');
    expect(chooseLogFormat('pretty', false)).toBe('pretty');
  });
});
