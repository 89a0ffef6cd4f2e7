import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { resolve } from 'node:path';
import type { Logger } from '@cbot-relay/observability';
import { DEFAULT_REDIS_URL } from '@cbot-relay/queues';

export interface EnsuredRedis {
  url: string;
  /** The redis-server this process started, if any. */
  child?: ChildProcess;
}

export class RedisMissingError extends Error {
  override name = 'RedisMissingError';
}

function reachable(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((done) => {
    const s = connect({ host, port });
    const finish = (ok: boolean) => {
      s.destroy();
      done(ok);
    };
    s.setTimeout(timeoutMs, () => finish(false));
    s.once('connect', () => finish(true));
    s.once('error', () => finish(false));
  });
}

/**
 * `pnpm start` on a laptop: with no REDIS_URL and nothing on 127.0.0.1:6379, start a local
 * redis-server with AOF on (data under .data/redis) so the relay's durability promise holds.
 */
export async function ensureRedis(url: string | undefined, log: Logger, dataDir = resolve('.data/redis')): Promise<EnsuredRedis> {
  if (url !== undefined) return { url };
  if (await reachable('127.0.0.1', 6379)) return { url: DEFAULT_REDIS_URL };
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new RedisMissingError(
      'no Redis at 127.0.0.1:6379 and no redis-server installed. Install Redis (apt-get install redis-server, ' +
        'brew install redis) or run `docker compose up redis`, or set REDIS_URL.',
    );
  }
  mkdirSync(dataDir, { recursive: true });
  const child = spawn(
    'redis-server',
    ['--port', '6379', '--bind', '127.0.0.1', '--dir', dataDir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '',
      '--hash-max-listpack-value', '1024'],
    { stdio: 'ignore' },
  );
  for (let i = 0; i < 100; i++) {
    if (await reachable('127.0.0.1', 6379)) {
      log.info({ dataDir }, 'started a local redis-server on 127.0.0.1:6379 (AOF on); it stops with the relay');
      return { url: DEFAULT_REDIS_URL, child };
    }
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new RedisMissingError('could not start a local redis-server; set REDIS_URL to a running Redis');
}
