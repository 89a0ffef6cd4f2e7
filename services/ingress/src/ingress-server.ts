import { createServer } from 'node:http';
import type { RequestListener, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The HTTP listener. close() stops accepting, lets in-flight requests finish (each either made its
 * message durable and answered, or answered an error), drops idle keep-alive sockets. Idempotent.
 */
export class IngressServer {
  readonly #server: Server;
  readonly #inFlight = new Set<ServerResponse>();
  #closing: Promise<void> | undefined;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async listen(app: RequestListener, port: number, host = '0.0.0.0'): Promise<IngressServer> {
    let self: IngressServer | undefined;
    const server = createServer((req, res) => {
      self?.track(res);
      app(req, res);
    });
    // Slow-loris guards; keep-alive longer than common load balancers' idle timeout (60 s).
    server.requestTimeout = 30_000;
    server.headersTimeout = 10_000;
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    self = new IngressServer(server);
    return self;
  }

  /** While closing, answer what is in flight and tell keep-alive clients to reconnect elsewhere. */
  private track(res: ServerResponse): void {
    if (this.#closing) res.setHeader('Connection', 'close');
    this.#inFlight.add(res);
    res.once('close', () => this.#inFlight.delete(res));
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /**
   * Keep-alive sockets would hold close() open for keepAliveTimeout: idle ones are closed as they go
   * idle, and after `graceMs` whatever is left is cut (its requests had that long to finish).
   */
  close(graceMs = 10_000): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      for (const res of this.#inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
      const sweep = setInterval(() => this.#server.closeIdleConnections(), 50);
      const cut = setTimeout(() => this.#server.closeAllConnections(), graceMs);
      this.#server.close(() => {
        clearInterval(sweep);
        clearTimeout(cut);
        resolve();
      });
      this.#server.closeIdleConnections();
    });
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
