import { request } from 'node:http';
import { Agent } from 'node:http';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { IngressServer } from './ingress-server.js';

describe('IngressServer.close', () => {
  it('finishes a request in flight and does not wait for keep-alive sockets', async () => {
    const app = express();
    let entered: () => void = () => undefined;
    const slowEntered = new Promise<void>((r) => (entered = r));
    let release: () => void = () => undefined;
    const released = new Promise<void>((r) => (release = r));
    app.get('/slow', async (_req, res) => {
      entered();
      await released;
      res.json({ ok: true });
    });
    app.get('/fast', (_req, res) => void res.json({ ok: true }));
    const server = await IngressServer.listen(app, 0, '127.0.0.1');
    const agent = new Agent({ keepAlive: true, maxSockets: 2 });
    const get = (path: string) =>
      new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
        request({ host: '127.0.0.1', port: server.port, path, agent }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
        })
          .on('error', reject)
          .end();
      });
    // Two idle keep-alive sockets: /slow takes one of them, the other stays idle through close().
    await Promise.all([get('/fast'), get('/fast')]);
    expect(Object.values(agent.freeSockets).flat()).toHaveLength(2);
    const slow = get('/slow');
    await slowEntered; // the request is in the handler: in flight when close() starts
    const idle = Object.values(agent.freeSockets).flat();
    expect(idle).toHaveLength(1);
    const idleClosed = new Promise<void>((r) => idle[0]!.once('close', () => r()));
    // The grace period is far longer than the test's timeout: if close() waited for the idle socket
    // (keepAliveTimeout, 65 s) or cut the in-flight request, this test would time out or fail.
    const closed = server.close(600_000);
    await idleClosed;
    release();
    expect(await slow).toEqual({ status: 200, connection: 'close' });
    await closed;
    agent.destroy();
  }, 15_000);
});
