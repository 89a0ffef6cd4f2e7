import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RelayProcess, freePort, startTestRedis, uniquePrefix } from '@cbot-relay/testing';
import type { TestRedis } from '@cbot-relay/testing';

// The package as a caller gets it: `pnpm pack`, `npm install <tgz>` into a project outside the
// workspace (offline: it has no dependencies), and a script there against a relay process.

const run = promisify(execFile);
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const KEY = 'pack-key-123456';

let scratch: string;
let redis: TestRedis;
let relay: RelayProcess;
let port: number;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'client-pack-'));
  redis = await startTestRedis();
  port = await freePort();
  // No CBOT_BASE_URL: the relay starts its bundled simulator (on SIM_PORT), as `pnpm start` does.
  relay = await RelayProcess.start({
    env: { REDIS_URL: redis.url, RELAY_API_KEYS: `pack:${KEY}`, PORT: String(port), HOST: '127.0.0.1', SIM_PORT: String(await freePort()), QUEUE_PREFIX: uniquePrefix('pack') },
  });
}, 120_000);

afterAll(async () => {
  await relay?.stop();
  await redis?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('@cbot-relay/client as packed', () => {
  it('installs from its tarball into a scratch project and sends a message that reaches sent', async () => {
    await run('pnpm', ['pack', '--pack-destination', scratch], { cwd: PACKAGE_DIR });
    const tarball = readdirSync(scratch).find((f) => f.endsWith('.tgz'));
    expect(tarball).toMatch(/^cbot-relay-client-\d+\.\d+\.\d+\.tgz$/);

    const { stdout: listing } = await run('tar', ['-tzf', join(scratch, tarball!)]);
    const files = listing.trim().split('\n').sort();
    expect(files).toContain('package/dist/index.js');
    expect(files).toContain('package/dist/index.d.ts');
    expect(files).toContain('package/README.md');
    expect(files.filter((f) => !/^package\/(dist\/[\w-]+\.(js|d\.ts)|README\.md|package\.json)$/.test(f))).toEqual([]);

    const project = join(scratch, 'project');
    await run('mkdir', ['-p', project]);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
    await run('npm', ['install', '--offline', '--no-audit', '--no-fund', join(scratch, tarball!)], { cwd: project });
    const installed = JSON.parse(readFileSync(join(project, 'node_modules/@cbot-relay/client/package.json'), 'utf8')) as Record<string, unknown>;
    expect(installed.dependencies ?? {}).toEqual({});

    writeFileSync(
      join(project, 'send.mjs'),
      `import { RelayClient } from '@cbot-relay/client';
const client = new RelayClient({ baseUrl: process.env.RELAY_URL, apiKey: process.env.RELAY_KEY });
const { id, idempotencyKey } = await client.send({ to: '905551112233', type: 'text', text: { body: 'from a packed client' } });
const message = await client.waitFor(id, 'sent', { timeoutMs: 20000 });
console.log(JSON.stringify({ id, idempotencyKey, status: message.status, cbotMessageId: message.cbotMessageId }));
`,
    );
    const { stdout } = await run(process.execPath, ['send.mjs'], {
      cwd: project,
      env: { PATH: process.env.PATH ?? '', RELAY_URL: `http://127.0.0.1:${port}`, RELAY_KEY: KEY },
    });
    const result = JSON.parse(stdout) as { id: string; idempotencyKey: string; status: string; cbotMessageId: string | null };
    expect(result.id).toMatch(/^msg_/);
    expect(['sent', 'delivered', 'read']).toContain(result.status);
    expect(result.cbotMessageId).toBeTruthy();
    expect(result.idempotencyKey.length).toBeGreaterThan(0);
  }, 120_000);
});
