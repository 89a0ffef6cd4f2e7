import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { startCbotSim } from '@cbot-relay/cbot-sim';
import { REPO_ROOT } from '@cbot-relay/testing';

function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--conditions=@cbot-relay/source', '--import', 'tsx', 'services/relay/src/cli.ts', ...args], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

describe('relay register-webhook', () => {
  it('registers PUBLIC_WEBHOOK_URL with CBOT, with the Basic header CBOT must send back', async () => {
    await using sim = await startCbotSim({ apiKey: 'cli-key', apiKeyHeader: 'D360-API-KEY' });
    const res = await runCli(['register-webhook'], {
      CBOT_BASE_URL: sim.url,
      CBOT_API_KEY: 'cli-key',
      CBOT_API_KEY_HEADER: 'D360-API-KEY',
      PUBLIC_WEBHOOK_URL: 'https://relay.example/webhooks/cbot',
      CBOT_WEBHOOK_USER: 'cbot-relay',
      CBOT_WEBHOOK_PASS: 's3cr3t-pass',
    });
    expect(res.out).toContain('registered: https://relay.example/webhooks/cbot');
    expect(res.code).toBe(0);
    expect(sim.webhook()).toEqual({
      url: 'https://relay.example/webhooks/cbot',
      headers: { Authorization: `Basic ${Buffer.from('cbot-relay:s3cr3t-pass').toString('base64')}` },
    });
  });

  it('fails with a clear message when CBOT refuses or config is missing', async () => {
    await using sim = await startCbotSim({ apiKey: 'cli-key' });
    const refused = await runCli(['register-webhook'], { CBOT_BASE_URL: sim.url, CBOT_API_KEY: 'wrong', PUBLIC_WEBHOOK_URL: 'https://relay.example/hook' });
    expect(refused.code).toBe(1);
    expect(refused.out).toContain('failed: https://relay.example/hook (HTTP 401)');
    const missing = await runCli(['register-webhook'], { CBOT_BASE_URL: sim.url, CBOT_API_KEY: 'cli-key' });
    expect(missing.code).toBe(1);
    expect(missing.out).toContain('PUBLIC_WEBHOOK_URL');
    expect((await runCli(['nonsense'], {})).code).toBe(2);
  });
});
