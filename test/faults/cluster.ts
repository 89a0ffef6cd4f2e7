import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startCbotSim } from '@cbot-relay/cbot-sim';
import type { CbotSim, SimKnobs } from '@cbot-relay/cbot-sim';
import { MessageStore } from '@cbot-relay/records';
import { LocalRedis, RelayProcess, freePort, uniquePrefix } from '@cbot-relay/testing';
import { PushReceiver } from './push-receiver.js';
import { QueueSubscriber } from './queue-subscriber.js';
import { relayEnv } from './relay-env.js';
import type { Role } from './relay-env.js';
import type { Teardown } from './teardown.js';

export const API_KEY = 'faults-key-0123456789';
export const CBOT_KEY = 'faults-cbot-key';
export const QUEUE_SUBSCRIBER = 'crm';
export const HTTP_SUBSCRIBER = 'hook';
const WEBHOOK_USER = 'cbot';
const WEBHOOK_PASS = 'faults-webhook-pass';

export interface ClusterOptions {
  td: Teardown;
  name: string;
  knobs?: Partial<SimKnobs>;
  /** Extra environment per role, over relayEnv's. */
  env?: Partial<Record<Role, Record<string, string>>>;
  /** OUTBOUND_PARTITIONS for every process (default: unset, one partition). */
  partitions?: number;
}

/** A process the suite started, with its role, for log evidence after it is gone. */
export interface Started {
  role: Role;
  proc: RelayProcess;
}

/**
 * One scenario's world: its own Redis (AOF on, see README.md here), the CBOT simulator, the HTTP and
 * queue subscribers in this process, and the relay's roles as separate child processes — one ingress,
 * two dispatchers, two fanouts — all on 127.0.0.1.
 */
export class Cluster {
  readonly live: Record<Role, RelayProcess[]> = { ingress: [], dispatcher: [], fanout: [] };
  readonly started: Started[] = [];
  readonly #pending = new Set<Promise<RelayProcess>>();
  readonly #exited = new Map<RelayProcess, number | null>();

  private constructor(
    readonly td: Teardown,
    readonly prefix: string,
    readonly redis: LocalRedis,
    readonly sim: CbotSim,
    readonly receiver: PushReceiver,
    readonly subscriber: QueueSubscriber,
    readonly client: Redis,
    readonly store: MessageStore,
    readonly ingressPort: number,
    readonly subscriptionsFile: string,
    readonly env: Partial<Record<Role, Record<string, string>>>,
  ) {}

  static async start(opts: ClusterOptions): Promise<Cluster> {
    const { td } = opts;
    const prefix = uniquePrefix(`faults-${opts.name}`);
    const redis = td.add('redis-server', await LocalRedis.start({ aof: true }), (r) => r.close());
    const sim = td.add('cbot-sim', await startCbotSim({
      apiKey: CBOT_KEY,
      // The simulator keeps every message and callback of a scenario: counting needs all of them.
      maxRecorded: 1_000_000,
      maxCallbackLog: 1_000_000,
      knobs: {
        latencyMs: 5,
        statusDelaysMs: [20, 60, 120],
        // Real CBOT retries a callback for ~24 h; 1000 tries ≤ 1 s apart outlast any scenario here.
        callbackRetry: { attempts: 1000, initialDelayMs: 100, maxDelayMs: 1_000 },
        callbackTimeoutMs: 5_000,
        ...opts.knobs,
      },
    }), (s) => s.close());
    const secret = `whsec_${randomBytes(24).toString('base64')}`;
    const receiver = td.add('push receiver', await PushReceiver.start(secret), (r) => r.close());
    const subscriber = td.add('queue subscriber', new QueueSubscriber({ redisUrl: redis.url, prefix, name: QUEUE_SUBSCRIBER }), (s) => s.close());
    const client = td.add('redis client', new Redis(redis.url, { maxRetriesPerRequest: 20 }), async (c) => c.disconnect());
    client.on('error', () => undefined);
    const store = new MessageStore({ redis: client, prefix, recordTtlS: 3_600, partitions: opts.partitions ?? 1 });
    const dir = await mkdtemp(join(tmpdir(), 'cbot-relay-faults-'));
    td.add('temp dir', dir, (d) => rm(d, { recursive: true, force: true }));
    const subscriptionsFile = join(dir, 'subscriptions.json');
    await writeFile(subscriptionsFile, JSON.stringify({
      subscribers: [
        { name: QUEUE_SUBSCRIBER, kind: 'queue', types: ['*'] },
        { name: HTTP_SUBSCRIBER, kind: 'http', url: receiver.url, secret, types: ['*'] },
      ],
    }));
    const ingressPort = await freePort();
    const partitionsEnv = opts.partitions === undefined ? {} : { OUTBOUND_PARTITIONS: String(opts.partitions) };
    const env = Object.fromEntries((['ingress', 'dispatcher', 'fanout'] as const).map((role) => [role, { ...partitionsEnv, ...opts.env?.[role] }]));
    const c = new Cluster(td, prefix, redis, sim, receiver, subscriber, client, store, ingressPort, subscriptionsFile, env);
    // Registered first so it runs last: a child still starting when teardown begins is stopped once it is up.
    td.add('children still starting', c, (cl) => Promise.allSettled([...cl.#pending]));
    sim.setWebhook(`${c.ingressUrl}/webhooks/cbot`, {
      Authorization: `Basic ${Buffer.from(`${WEBHOOK_USER}:${WEBHOOK_PASS}`).toString('base64')}`,
    });
    await Promise.all([c.startRole('ingress'), c.startRole('dispatcher'), c.startRole('dispatcher'), c.startRole('fanout'), c.startRole('fanout')]);
    return c;
  }

  get ingressUrl(): string {
    return `http://127.0.0.1:${this.ingressPort}`;
  }

  /** Starts one more process of `role` and waits for its "cbot-relay started" line. */
  async startRole(role: Role): Promise<RelayProcess> {
    const env = {
      ...relayEnv(role, {
        redisUrl: this.redis.url, prefix: this.prefix, cbotUrl: this.sim.url, cbotKey: CBOT_KEY,
        apiKey: API_KEY, port: this.ingressPort, webhookUser: WEBHOOK_USER, webhookPass: WEBHOOK_PASS,
        subscriptionsFile: this.subscriptionsFile,
      }),
      ...this.env[role],
    };
    // Compiled, as the image runs it: a process starts in a fraction of the time tsx takes, which
    // matters for scenarios that kill and restart processes every few seconds on a 2-core machine.
    const starting = RelayProcess.start({ env, readyTimeoutMs: 60_000, compiled: true });
    this.#pending.add(starting);
    try {
      const proc = this.td.add(role, await starting, (p) => p.stop('SIGKILL'));
      this.live[role].push(proc);
      this.started.push({ role, proc });
      void proc.exited().then((code) => this.#exited.set(proc, code));
      return proc;
    } finally {
      this.#pending.delete(starting);
    }
  }

  /** Sends `signal` to the `index`-th live process of `role`; resolves with its exit code (null: killed by a signal). */
  async stopRole(role: Role, index: number, signal: NodeJS.Signals): Promise<number | null> {
    const proc = this.live[role][index];
    if (!proc) throw new Error(`no live ${role} #${index}`);
    this.live[role].splice(index, 1);
    return proc.stop(signal);
  }

  /** Live processes (never sent a signal by the suite) that exited by themselves: a crash. */
  crashed(): string[] {
    return (Object.keys(this.live) as Role[]).flatMap((role) =>
      this.live[role].filter((p) => this.#exited.has(p)).map((p) => `${role} pid ${p.pid} exited with ${this.#exited.get(p)}`),
    );
  }

  /** Warn and error log lines (pino level ≥ 40) of every process started, newest last. */
  problems(max = 40): string[] {
    const out: string[] = [];
    for (const { role, proc } of this.started) {
      for (const line of proc.lines) {
        // pino writes the level as a label here ("warn") or a number (40); non-JSON lines are stderr output.
        const level = /"level":"?(\w+)"?/.exec(line)?.[1];
        const serious = level === undefined ? line.trim() !== '' : ['warn', 'error', 'fatal', '40', '50', '60'].includes(level);
        // Long stack traces would drown the table; the first 400 characters name the error.
        if (serious) out.push(`[${role} ${proc.pid}] ${line.length > 400 ? `${line.slice(0, 400)}…` : line}`);
      }
    }
    return out.slice(-max);
  }

  /** Every line logged by processes of `role` that contains `text`. */
  grep(text: string, role?: Role): string[] {
    return this.started.filter((s) => role === undefined || s.role === role).flatMap((s) => s.proc.lines.filter((l) => l.includes(text)));
  }
}
