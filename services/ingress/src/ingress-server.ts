import { createServer } from 'node:http';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What one ingress accepts from slow or many clients (INGRESS_* variables, README). */
export interface ServerLimits {
  maxConnections: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  bodyIdleTimeoutMs: number;
  /**
   * Requests whose bodies are long by nature (media uploads): their own whole-request deadline and
   * body idle timeout instead of requestTimeoutMs / bodyIdleTimeoutMs.
   */
  longBody?: { matches: (req: IncomingMessage) => boolean; timeoutMs: number; idleTimeoutMs: number };
  /**
   * Called for each connection refused on arrival because maxConnections were open (answered 503,
   * or past OVERFLOW_CONNECTIONS more, closed unanswered).
   */
  onDrop?: () => void;
}

export const DEFAULT_LIMITS: Omit<ServerLimits, 'onDrop'> = {
  maxConnections: 1024,
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 15_000,
  bodyIdleTimeoutMs: 5_000,
};

/**
 * Connections past maxConnections that are still answered (a 503 written straight to the socket, then
 * closed); past this many more they are closed unanswered by Node, as a last bound on descriptors.
 */
export const OVERFLOW_CONNECTIONS = 256;

/** A refused connection's client has this long to read the 503 and close before it is cut. */
const REFUSED_LINGER_MS = 1_000;

const BUSY_BODY = JSON.stringify({ error: { code: 'busy', message: 'too many connections; retry later', details: [] } });
const BUSY_ANSWER =
  'HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8\r\nRetry-After: 1\r\nCache-Control: no-store\r\n' +
  `Connection: close\r\nContent-Length: ${Buffer.byteLength(BUSY_BODY)}\r\n\r\n${BUSY_BODY}`;

/**
 * Cuts a request whose body stops arriving for `ms` (a 408 if nothing was answered yet), so a client
 * that sends headers and then trickles or stalls cannot hold its buffers for the whole request
 * timeout. Armed when the body starts being read (a request waiting on Redis before that, for its
 * admission, is not stalling: its bytes wait in the kernel, held by no one), disarmed once it is in.
 */
function guardBodyIdle(req: IncomingMessage, res: ServerResponse, ms: number): void {
  // Answered before its body was read (Node then reads and drops it): nothing to guard.
  const arm = () => void (res.writableEnded || req.setTimeout(ms, () => cut(req, res, 'request body stalled')));
  if (req.readableFlowing === true) arm();
  else req.once('resume', arm);
  req.once('end', () => {
    // After the answer Node has set its own keep-alive timeout on the socket; leave that alone.
    if (!res.writableEnded) req.socket.setTimeout(0);
  });
}

/** A 408 and the connection closed (or just closed, when an answer had begun). */
function cut(req: IncomingMessage, res: ServerResponse, message: string): void {
  if (res.headersSent) {
    req.socket.destroy();
    return;
  }
  const body = JSON.stringify({ error: { code: 'request_timeout', message, details: [] } });
  res.writeHead(408, { Connection: 'close', 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * Node's requestTimeout is one value for every request; when long bodies need more, Node's is raised
 * to theirs and every other request gets requestTimeoutMs from here, as Node would have enforced it.
 */
function guardDeadline(req: IncomingMessage, res: ServerResponse, ms: number): void {
  const timer = setTimeout(() => {
    if (!req.complete) cut(req, res, 'request took too long');
  }, ms);
  timer.unref();
  const clear = () => clearTimeout(timer);
  req.once('end', clear);
  res.once('close', clear);
}

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

  static async listen(app: RequestListener, port: number, host = '0.0.0.0', limits: Partial<ServerLimits> = {}): Promise<IngressServer> {
    const l = { ...DEFAULT_LIMITS, ...limits };
    const long = l.longBody !== undefined && l.longBody.timeoutMs > l.requestTimeoutMs ? l.longBody : undefined;
    let self: IngressServer | undefined;
    const refused = new WeakSet<Socket>();
    const server = createServer(
      {
        headersTimeout: l.headersTimeoutMs,
        requestTimeout: long ? long.timeoutMs : l.requestTimeoutMs,
        // Longer than common load balancers' idle timeout (60 s), so they close first.
        keepAliveTimeout: 65_000,
        // Node checks the two timeouts above only this often (30 s by default), which would let slow
        // clients stay up to 30 s past them.
        connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(l.headersTimeoutMs / 4))),
      },
      (req, res) => {
        // A refused connection has its 503 already; what it sends is read and dropped.
        if (refused.has(req.socket)) return;
        self?.track(res);
        if (!req.complete) {
          const isLong = l.longBody?.matches(req) === true;
          guardBodyIdle(req, res, isLong ? l.longBody!.idleTimeoutMs : l.bodyIdleTimeoutMs);
          if (long) guardDeadline(req, res, isLong ? long.timeoutMs : l.requestTimeoutMs);
        }
        app(req, res);
      },
    );
    // Connections past the cap are answered 503 as they arrive, before any byte is read, and closed;
    // past OVERFLOW_CONNECTIONS more, Node closes them unanswered.
    let open = 0;
    server.prependListener('connection', (socket: Socket) => {
      if (open < l.maxConnections) {
        open++;
        socket.once('close', () => open--);
        return;
      }
      refused.add(socket);
      l.onDrop?.();
      socket.on('error', () => undefined);
      socket.end(BUSY_ANSWER);
      // Half-closed: the client reads the answer and closes; one that does not is cut.
      const linger = setTimeout(() => socket.destroy(), REFUSED_LINGER_MS);
      linger.unref();
      socket.once('close', () => clearTimeout(linger));
    });
    server.maxConnections = l.maxConnections + OVERFLOW_CONNECTIONS;
    if (l.onDrop) server.on('drop', l.onDrop);
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
