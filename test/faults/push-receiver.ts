import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventKey, isOtherEvent } from './event-key.js';

/** Tolerance of webhook-timestamp, as the Standard Webhooks spec recommends (5 min). */
const TIMESTAMP_TOLERANCE_S = 300;

/**
 * The HTTP subscriber: verifies every push against the Standard Webhooks spec (written here from the
 * spec, independent of the relay's signer) and records what it acknowledged with 200. `hang()` makes
 * it take requests and never answer, as a subscriber that times out does.
 */
export class PushReceiver {
  /** webhook-id → event key, for every push answered 200. */
  readonly keyOf = new Map<string, string>();
  /** webhook-id → how often it was answered 200 (more than once: an at-least-once redelivery). */
  readonly acks = new Map<string, number>();
  badSignatures = 0;
  unparsable = 0;
  /** Requests left unanswered while hanging (the relay timed them out). */
  timedOut = 0;
  readonly #held = new Set<ServerResponse>();
  #hanging = false;

  private constructor(
    readonly secret: string,
    readonly server: Server,
  ) {}

  static async start(secret: string): Promise<PushReceiver> {
    const server = createServer();
    const r = new PushReceiver(secret, server);
    server.on('request', (req, res) => r.#onRequest(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return r;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  /** From now on, take requests and never answer them. */
  hang(): void {
    this.#hanging = true;
  }

  /** Answer again; the held requests are dropped (the relay gave up on them long ago). */
  recover(): void {
    this.#hanging = false;
    for (const res of this.#held) res.destroy();
    this.#held.clear();
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (this.#hanging) {
        this.timedOut++;
        this.#held.add(res);
        res.on('close', () => this.#held.delete(res));
        return;
      }
      const body = Buffer.concat(chunks).toString('utf8');
      const id = header(req, 'webhook-id');
      if (!this.#verify(req, body) || id === undefined) {
        this.badSignatures++;
        res.writeHead(400).end();
        return;
      }
      let key: string | undefined;
      try {
        const event = JSON.parse(body) as { type?: unknown; data?: unknown };
        if (isOtherEvent(event)) {
          res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
          return;
        }
        key = eventKey(event);
      } catch {
        key = undefined;
      }
      if (key === undefined) this.unparsable++;
      else this.keyOf.set(id, key);
      this.acks.set(id, (this.acks.get(id) ?? 0) + 1);
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  }

  #verify(req: IncomingMessage, body: string): boolean {
    const id = header(req, 'webhook-id');
    const ts = header(req, 'webhook-timestamp');
    const sigs = header(req, 'webhook-signature');
    if (!id || !ts || !sigs || !/^\d+$/.test(ts)) return false;
    if (Math.abs(Date.now() / 1000 - Number(ts)) > TIMESTAMP_TOLERANCE_S) return false;
    const key = this.secret.startsWith('whsec_') ? Buffer.from(this.secret.slice(6), 'base64') : Buffer.from(this.secret);
    const expected = createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest();
    return sigs.split(' ').some((entry) => {
      const [version, sig] = entry.split(',', 2);
      if (version !== 'v1' || !sig) return false;
      const given = Buffer.from(sig, 'base64');
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
  }

  async close(): Promise<void> {
    this.recover();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(' ') : v;
}
