import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

export interface Readiness {
  ok: boolean;
  /** Each check's result; a string where there are more than two answers (e.g. `webhook`). */
  checks: Record<string, boolean | string>;
}

export interface OpsServerOptions {
  /** 0: any free port (tests, several processes on one host). */
  port: number;
  host: string;
  metrics: Metrics;
  ready: () => Promise<Readiness>;
  log: Logger;
  /** /readyz answers 503 when `ready` has not answered within this (default 2,000 ms). */
  readyTimeoutMs?: number;
}

/**
 * `ready`, or not ready (`checks.ready: 'timeout'`) when it has not answered within `ms`: a probe
 * gets its 503 quickly from a process whose Redis hangs.
 */
export function readinessWithin(ready: () => Promise<Readiness>, ms: number): () => Promise<Readiness> {
  return async () => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<Readiness>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, checks: { ready: 'timeout' } }), ms);
    });
    try {
      return await Promise.race([ready(), late]);
    } finally {
      clearTimeout(timer);
    }
  };
}

/**
 * OPS_PORT: `/healthz`, `/readyz`, `/metrics` for every process whatever its roles, unauthenticated
 * (keep the port off public networks). Bare node:http: a dispatcher or fanout process loads no web
 * framework for three GET routes. Small limits, since nothing but probes and scrapers should call.
 */
export class OpsServer {
  readonly #server: Server;
  #closing: Promise<void> | undefined;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async listen(options: OpsServerOptions): Promise<OpsServer> {
    const opts = { ...options, ready: readinessWithin(options.ready, options.readyTimeoutMs ?? 2_000) };
    const server = createServer({ headersTimeout: 5_000, requestTimeout: 10_000, connectionsCheckingInterval: 1_000 }, (req, res) => {
      answer(req, res, opts).catch((err: unknown) => {
        opts.log.error({ err }, 'ops endpoint failed');
        if (!res.headersSent) reply(res, 500, 'application/json', '{"status":"error"}');
        else res.destroy();
      });
    });
    server.maxConnections = 64;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new OpsServer(server);
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** Stops listening and cuts open connections (probes and scrapes are short and retried). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

async function answer(req: IncomingMessage, res: ServerResponse, opts: OpsServerOptions): Promise<void> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'application/json', '{"status":"method_not_allowed"}', { Allow: 'GET, HEAD' });
  switch (path) {
    case '/healthz':
      return reply(res, 200, 'application/json', '{"status":"ok"}');
    case '/readyz': {
      const { ok, checks } = await opts.ready();
      return reply(res, ok ? 200 : 503, 'application/json', JSON.stringify({ status: ok ? 'ready' : 'not_ready', checks }));
    }
    case '/metrics':
      return reply(res, 200, opts.metrics.registry.contentType, await opts.metrics.registry.metrics());
    default:
      return reply(res, 404, 'application/json', '{"status":"not_found"}');
  }
}

function reply(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...headers, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
