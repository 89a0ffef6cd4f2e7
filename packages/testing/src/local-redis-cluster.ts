import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './free-port.js';

/**
 * A three-primary Redis Cluster of local `redis-server` children (no replicas), for tests of
 * REDIS_CLUSTER=1. `url` is a seed node.
 */
export class LocalRedisCluster {
  readonly #children: ChildProcess[] = [];
  #closed = false;

  private constructor(
    readonly ports: number[],
    readonly dir: string,
  ) {}

  /** The primaries' process ids, in the order of `ports`. */
  get pids(): number[] {
    return this.#children.map((c) => c.pid ?? 0);
  }

  get url(): string {
    return `redis://127.0.0.1:${this.ports[0]}`;
  }

  static async start(nodes = 3): Promise<LocalRedisCluster> {
    const dir = await mkdtemp(join(tmpdir(), 'cbot-relay-cluster-'));
    const ports: number[] = [];
    while (ports.length < nodes) {
      const p = await freePort();
      if (!ports.includes(p) && p < 55_535) ports.push(p); // the cluster bus uses port + 10000
    }
    const c = new LocalRedisCluster(ports, dir);
    try {
      for (const port of ports) {
        const child = spawn(
          'redis-server',
          ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no',
            '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '2000'],
          { stdio: 'ignore' },
        );
        c.#children.push(child);
      }
      for (const port of ports) await waitPing(port);
      const created = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], {
        encoding: 'utf8',
        timeout: 20_000,
      });
      if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
      for (const port of ports) await waitClusterOk(port);
      return c;
    } catch (err) {
      await c.close();
      throw err;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(
      this.#children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    await rm(this.dir, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

async function poll(port: number, check: (r: Redis) => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const r = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => undefined);
    try {
      await r.connect();
      if (await check(r)) return;
    } catch {
      // not yet
    } finally {
      r.disconnect();
    }
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`redis ${port}: ${what} timed out`);
}

const waitPing = (port: number) => poll(port, async (r) => (await r.ping()) === 'PONG', 'ping');
const waitClusterOk = (port: number) =>
  poll(port, async (r) => String(await r.cluster('INFO')).includes('cluster_state:ok'), 'cluster_state:ok');
