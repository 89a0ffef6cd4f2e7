import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import type { Socket } from 'node:net';

/** A client socket that keeps everything the server sent and says when the server closed it. */
export interface RawConnection {
  socket: Socket;
  /** Bytes received so far, as latin1 text. */
  received(): string;
  /** The status code of the first response, once its status line has arrived. */
  status(): number | undefined;
  /** Resolves when the server has closed (or reset) the connection. */
  closed: Promise<void>;
  write(data: string | Buffer): Promise<void>;
}

export async function rawConnect(port: number): Promise<RawConnection> {
  const socket = connect({ host: '127.0.0.1', port });
  let text = '';
  socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
  socket.on('error', () => undefined); // a reset is one way of being closed
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return {
    socket,
    received: () => text,
    status: () => {
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      return m ? Number(m[1]) : undefined;
    },
    closed,
    write: (data) =>
      new Promise<void>((resolve, reject) => {
        if (socket.destroyed) return reject(new Error('socket closed'));
        socket.write(data, (err) => (err ? reject(err) : resolve()));
      }),
  };
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request over `agent`; `headers` may repeat a name (raw pairs), which fetch cannot do. */
export function send(
  agent: Agent,
  port: number,
  method: string,
  path: string,
  headers: [string, string][] = [],
  body?: string | Buffer,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    // With raw header pairs Node adds no Host, which HTTP/1.1 requires.
    const flat = ['Host', `127.0.0.1:${port}`, ...headers.flat()];
    if (body !== undefined) flat.push('Content-Length', String(Buffer.byteLength(body)));
    const req = request({ host: '127.0.0.1', port, method, path, agent, headers: flat }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Runs `task` for 0..n-1 with at most `width` at once. */
export async function pool(n: number, width: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

/** A metric's value from Prometheus text (first sample whose name and labels start with `prefix`). */
export function sample(metrics: string, prefix: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith(prefix));
  if (line === undefined) throw new Error(`no sample ${prefix}`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}
