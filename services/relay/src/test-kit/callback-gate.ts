import { once } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

interface Held {
  body: Buffer;
  headers: Record<string, string>;
  res: ServerResponse;
}

/**
 * Test-only: stands between the simulator and the relay's webhook and holds each callback `holds`
 * picks until the test lets it through, so a test can look at the relay after every single callback;
 * other callbacks go straight on. The simulator sends a message's next status only after the previous
 * one got its 200, so at most one status of a message is held at a time.
 */
export class CallbackGate {
  readonly #held: Held[] = [];
  readonly #server = createServer((req, res) => void this.#hold(req, res));
  readonly #target: string;
  readonly #holds: (payload: unknown) => boolean;

  private constructor(target: string, holds: (payload: unknown) => boolean) {
    this.#target = target;
    this.#holds = holds;
  }

  /** `target`: the relay's webhook URL every callback goes to (the held ones when released). */
  static async start(target: string, holds: (payload: unknown) => boolean): Promise<CallbackGate> {
    const gate = new CallbackGate(target, holds);
    gate.#server.listen(0, '127.0.0.1');
    await once(gate.#server, 'listening');
    return gate;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/`;
  }

  /** The oldest held callback's parsed body, or undefined when none is held. */
  peek(): unknown {
    const first = this.#held[0];
    return first && JSON.parse(first.body.toString('utf8'));
  }

  /** Forwards the oldest held callback to the relay and answers the simulator with the relay's answer. */
  async release(): Promise<number> {
    const next = this.#held.shift();
    if (!next) throw new Error('callback gate: nothing held');
    return this.#forward(next);
  }

  async #forward({ body, headers, res }: Held): Promise<number> {
    const answer = await fetch(this.#target, { method: 'POST', headers, body });
    const text = await answer.text();
    res.writeHead(answer.status, { 'content-type': 'application/json' }).end(text);
    return answer.status;
  }

  async close(): Promise<void> {
    for (const h of this.#held.splice(0)) h.res.destroy();
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    await closed;
  }

  async #hold(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const headers: Record<string, string> = {};
    for (const name of ['authorization', 'content-type', 'x-hub-signature-256']) {
      const v = req.headers[name];
      if (typeof v === 'string') headers[name] = v;
    }
    const held = { body: Buffer.concat(chunks), headers, res };
    let payload: unknown;
    try {
      payload = JSON.parse(held.body.toString('utf8'));
    } catch {
      payload = undefined;
    }
    if (this.#holds(payload)) this.#held.push(held);
    else await this.#forward(held).catch(() => res.destroy());
  }
}
