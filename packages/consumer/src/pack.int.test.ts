import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, uniquePrefix } from '@cbot-relay/testing';
import type { TestRedis } from '@cbot-relay/testing';

// The packages as a downstream team gets them: `pnpm pack` of @cbot-relay/consumer and
// @cbot-relay/messages (prepack builds dist), `npm install` of both tarballs into a project outside
// the workspace (bullmq, ioredis and zod from the local npm cache, or from the registry on a fresh
// machine), and a script there that consumes one event from a real Redis queue.

const run = promisify(execFile);
const PACKAGES = fileURLToPath(new URL('../..', import.meta.url));

let scratch: string;
let redis: TestRedis;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'consumer-pack-'));
  redis = await startTestRedis();
});

afterAll(async () => {
  await redis?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** Packs one workspace package into `scratch`; returns the tarball's path after checking what it holds. */
async function pack(name: 'consumer' | 'messages'): Promise<string> {
  const dest = join(scratch, name);
  mkdirSync(dest);
  await run('pnpm', ['pack', '--pack-destination', dest], { cwd: join(PACKAGES, name) });
  const tarball = readdirSync(dest).find((f) => f.endsWith('.tgz'));
  expect(tarball).toMatch(new RegExp(`^cbot-relay-${name}-\\d+\\.\\d+\\.\\d+\\.tgz$`));
  const { stdout } = await run('tar', ['-tzf', join(dest, tarball!)]);
  const files = stdout.trim().split('\n');
  expect(files).toContain('package/dist/index.js');
  expect(files).toContain('package/dist/index.d.ts');
  expect(files).toContain('package/README.md');
  // Built output, the README and the manifest only: no sources, tests, build info or test data.
  expect(files.filter((f) => !/^package\/(dist\/[\w-]+\.(js|js\.map|d\.ts)|README\.md|package\.json)$/.test(f))).toEqual([]);
  return join(dest, tarball!);
}

describe('@cbot-relay/consumer and @cbot-relay/messages as packed', () => {
  it('install from their tarballs and consume one event from a real Redis queue', async () => {
    // One after the other: the consumer's build (tsc -b) builds messages too.
    const messagesTgz = await pack('messages');
    const consumerTgz = await pack('consumer');

    const project = join(scratch, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', messagesTgz, consumerTgz], { cwd: project });
    const manifest = (p: string) => JSON.parse(readFileSync(join(project, 'node_modules', p, 'package.json'), 'utf8')) as { version: string; dependencies?: Record<string, string> };
    const messages = manifest('@cbot-relay/messages');
    // The workspace range became the packed version, so the consumer resolves the tarball beside it.
    expect(manifest('@cbot-relay/consumer').dependencies).toEqual({ '@cbot-relay/messages': messages.version, bullmq: '6.7.0', ioredis: '6.0.0' });
    expect(messages.dependencies).toEqual({ zod: '4.6.7' });

    const prefix = uniquePrefix('consumer-pack');
    const event = {
      id: `evt_${'a1'.repeat(16)}`,
      type: 'message.received',
      occurredAt: '2024-05-31T16:08:20.000Z',
      receivedAt: '2024-05-31T16:08:21.000Z',
      data: { from: '905551112233', id: 'wamid.pack1', type: 'text', text: { body: 'from a packed consumer' } },
    };
    // What the relay's fanout does for a queue subscriber: job id = event id, the event as its data.
    const queue = new Queue('events.crm', { connection: { url: redis.url }, prefix });
    await queue.add(event.type, event, { jobId: event.id, attempts: 3 });

    writeFileSync(
      join(project, 'consume.mjs'),
      `import { RelayEvent, createConsumer } from '@cbot-relay/consumer';
const giveUp = setTimeout(() => { console.error('no event within 20 s'); process.exit(1); }, 20000);
const consumer = createConsumer({
  subscriber: 'crm',
  connection: { url: process.env.REDIS_URL },
  prefix: process.env.QUEUE_PREFIX,
  handler: async (event, ctx) => {
    console.log(JSON.stringify({ event, ctx, valid: RelayEvent.safeParse(event).success }));
    clearTimeout(giveUp);
    setImmediate(() => void consumer.close());
  },
});
`,
    );
    try {
      const { stdout } = await run(process.execPath, ['consume.mjs'], {
        cwd: project,
        timeout: 30_000,
        env: { PATH: process.env.PATH ?? '', REDIS_URL: redis.url, QUEUE_PREFIX: prefix },
      });
      expect(JSON.parse(stdout)).toEqual({ event, ctx: { attempt: 1, jobId: event.id }, valid: true });
      // The job completed: the consumer acknowledged it before closing.
      expect(await queue.getJobState(event.id)).toBe('completed');
    } finally {
      await queue.close();
    }
  }, 90_000);
});
