import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './free-port.js';

export interface LocalRedisOptions {
  /** AOF on (appendfsync everysec) so a kill -9 and restart keeps what was acknowledged. */
  aof?: boolean;
  binary?: string;
  /** More redis-server arguments, e.g. `['--replicaof', '127.0.0.1', '6380']`. */
  args?: string[];
}

/**
 * A `redis-server` child on a free loopback port with its own data folder: tests may kill it,
 * restart it from its AOF, and never touch the Redis on 6379.
 */
export class LocalRedis {
  #child: ChildProcess | undefined;
  #closed = false;

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly opts: LocalRedisOptions,
  ) {}

  static async start(opts: LocalRedisOptions = {}): Promise<LocalRedis> {
    const dir = await mkdtemp(join(tmpdir(), 'cbot-relay-redis-'));
    for (let tries = 0; ; tries++) {
      const r = new LocalRedis(await freePort(), dir, opts);
      try {
        await r.spawn();
        return r;
      } catch (err) {
        await r.kill();
        if (tries >= 4) {
          await rm(dir, { recursive: true, force: true });
          throw err;
        }
      }
    }
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  private async spawn(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', ''];
    args.push('--appendonly', this.opts.aof ? 'yes' : 'no', '--appendfsync', 'everysec', ...(this.opts.args ?? []));
    const child = spawn(this.opts.binary ?? 'redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
    child.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${output}`))),
    );
    exited.catch(() => undefined);
    await Promise.race([this.waitReady(), exited]);
  }

  private async waitReady(): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const probe = new Redis(this.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        // LOADING answers an error until the AOF is read back.
        if ((await probe.ping()) === 'PONG') return;
      } catch {
        // not up yet
      } finally {
        probe.disconnect();
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`redis-server on ${this.port} did not become ready`);
  }

  /** SIGSTOP: the server keeps its connections open and answers nothing until thaw(). */
  freeze(): void {
    this.#child?.kill('SIGSTOP');
  }

  /** SIGCONT after freeze(). */
  thaw(): void {
    this.#child?.kill('SIGCONT');
  }

  /** SIGKILL: no shutdown save, exactly like a crash. */
  async kill(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
  }

  /** Starts again on the same port and folder, loading the AOF if there is one. */
  async restart(): Promise<void> {
    await this.kill();
    await this.spawn();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.kill();
    await rm(this.dir, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
