import { readFile, writeFile } from 'node:fs/promises';
import { Agent } from 'node:http';
import { startCbotSim } from '@cbot-relay/cbot-sim';
import type { CbotSim } from '@cbot-relay/cbot-sim';
import { RelayProcess, freePort, startTestRedis, uniquePrefix } from '@cbot-relay/testing';
import type { TestRedis } from '@cbot-relay/testing';
import type { RawConnection } from './raw-http.js';
import { rawConnect } from './raw-http.js';

export const API_KEY = 'sec-api-key-123456';
export const ADMIN_KEY = 'sec-admin-key-123456';
export const APP_SECRET = 'sec-app-secret';
export const BASIC = `Basic ${Buffer.from('cbot:hook-pass-123').toString('base64')}`;
const CBOT_KEY = 'sec-cbot-key';

export const JSON_TYPE: [string, string][] = [['Content-Type', 'application/json']];
export const bearer = (key: string): [string, string] => ['Authorization', `Bearer ${key}`];
export const textMessage = (to: string, body = 'hi') => JSON.stringify({ to, type: 'text', text: { body } });

/**
 * A relay process under attack, as deployed: every role, the image's heap flags (a leak that would
 * kill a container kills this process), its own Redis from the test kit, the CBOT simulator, and
 * OPS_PORT on a port of its own. `env` shortens limits so the attacks are quick to run.
 */
export class RelayUnderAttack {
  readonly #agents: Agent[] = [];
  readonly #sockets: RawConnection[] = [];

  private constructor(
    readonly port: number,
    readonly opsPort: number,
    readonly sim: CbotSim,
    private readonly relay: RelayProcess,
    private readonly redis: TestRedis,
  ) {}

  static async start(env: Record<string, string>): Promise<RelayUnderAttack> {
    const redis = await startTestRedis();
    const sim = await startCbotSim({ apiKey: CBOT_KEY, knobs: { statusCallbacks: false } });
    const [port, opsPort] = [await freePort(), await freePort()];
    const relay = await RelayProcess.start({
      env: {
        REDIS_URL: redis.url,
        QUEUE_PREFIX: uniquePrefix('sec'),
        HOST: '127.0.0.1',
        PORT: String(port),
        OPS_PORT: String(opsPort),
        RELAY_API_KEYS: `crm:${API_KEY}`,
        RELAY_ADMIN_KEYS: `ops:${ADMIN_KEY}`,
        CBOT_BASE_URL: sim.url,
        CBOT_API_KEY: CBOT_KEY,
        CBOT_WEBHOOK_USER: 'cbot',
        CBOT_WEBHOOK_PASS: 'hook-pass-123',
        CBOT_APP_SECRET: APP_SECRET,
        CBOT_RATE_LIMIT: '100000',
        API_KEY_RATE_LIMIT: '0',
        NODE_OPTIONS: '--max-old-space-size=96 --max-semi-space-size=8',
        ...env,
      },
    });
    return new RelayUnderAttack(port, opsPort, sim, relay, redis);
  }

  /** A keep-alive client, closed by disconnectAll (the connection cap counts its sockets). */
  client(maxSockets = 8): Agent {
    const a = new Agent({ keepAlive: true, maxSockets });
    this.#agents.push(a);
    return a;
  }

  async connect(): Promise<RawConnection> {
    const c = await rawConnect(this.port);
    this.#sockets.push(c);
    return c;
  }

  /** /metrics from OPS_PORT. */
  async metrics(): Promise<string> {
    return (await fetch(`http://127.0.0.1:${this.opsPort}/metrics`)).text();
  }

  /** The relay process's resident set now and its peak (VmRSS, VmHWM from /proc; Linux), in bytes. */
  async rss(): Promise<{ now: number; peak: number }> {
    const status = await readFile(`/proc/${this.relay.pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { now: kb('VmRSS'), peak: kb('VmHWM') };
  }

  /** Restarts the peak (VmHWM) from the current resident set: `echo 5 > /proc/<pid>/clear_refs`. */
  async resetPeakRss(): Promise<void> {
    await writeFile(`/proc/${this.relay.pid}/clear_refs`, '5');
  }

  disconnectAll(): void {
    for (const a of this.#agents.splice(0)) a.destroy();
    for (const c of this.#sockets.splice(0)) c.socket.destroy();
  }

  async close(): Promise<void> {
    this.disconnectAll();
    await this.relay.stop('SIGKILL');
    await this.sim.close();
    await this.redis.close();
  }
}
