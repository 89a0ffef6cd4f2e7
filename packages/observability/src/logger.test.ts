import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './index.js';

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
