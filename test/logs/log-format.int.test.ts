import { spawn } from 'node:child_process';
import { REPO_ROOT, startTestRedis, uniquePrefix, waitFor } from '@cbot-relay/testing';
import type { TestRedis } from '@cbot-relay/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await redis?.close();
});

/** The relay (fanout only: no CBOT needed) as a child with piped stdout, stopped with SIGTERM once started. */
async function runRelay(env: Record<string, string>): Promise<{ out: string; code: number | null }> {
  const child = spawn(process.execPath, ['--conditions=@cbot-relay/source', '--import', 'tsx', 'services/relay/src/main.ts'], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', REDIS_URL: redis.url, QUEUE_PREFIX: uniquePrefix('logs'), RELAY_ROLES: 'fanout', OPS_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  // 'close', not 'exit': the child's last lines may still be in the pipe when it exits.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  try {
    await waitFor(() => out.includes('cbot-relay started'), { timeoutMs: 30_000, what: `the start line in:\n${out}` });
  } finally {
    child.kill('SIGTERM');
  }
  const code = await exited;
  return { out, code };
}

describe('LOG_FORMAT', () => {
  it('pretty: human-readable lines, not JSON, down to the last line before exit', async () => {
    const { out, code } = await runRelay({ LOG_FORMAT: 'pretty' });
    expect(code).toBe(0);
    expect(out).toMatch(/INFO \(cbot-relay\): cbot-relay started/);
    // The line logged just before process.exit is there.
    expect(out).toMatch(/INFO \(cbot-relay\): stopped/);
    expect(out).not.toContain('"msg":');
    // Not a terminal: no colours.
    expect(out).not.toContain('\u001b[');
  });

  it('unset, stdout a pipe: one JSON object a line', async () => {
    const { out, code } = await runRelay({});
    expect(code).toBe(0);
    const lines = out.trim().split('\n');
    const parsed = lines.map((l) => JSON.parse(l) as { msg?: string });
    expect(parsed.map((l) => l.msg)).toEqual(expect.arrayContaining(['cbot-relay started', 'stopped']));
  });
});
