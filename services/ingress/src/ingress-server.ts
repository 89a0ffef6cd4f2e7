import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

/**
 * The HTTP listener. close() stops accepting, lets in-flight requests finish (each either made its
 * message durable and answered, or answered an error), drops idle keep-alive sockets. Idempotent.
 */
export class IngressServer {
  readonly #server: Server;
  #closing: Promise<void> | undefined;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async listen(app: Express, port: number, host = '0.0.0.0'): Promise<IngressServer> {
    const server = createServer(app);
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
    return new IngressServer(server);
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeIdleConnections();
    });
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
