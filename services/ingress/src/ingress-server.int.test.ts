import { request } from 'node:http';
import { Agent } from 'node:http';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { IngressServer } from './ingress-server.js';

describe('IngressServer.close', () => {
  it('finishes a request in flight and does not wait for keep-alive sockets', async () => {
    const app = express();
    let release: () => void = () => undefined;
    app.get('/slow', async (_req, res) => {
      await new Promise<void>((r) => (release = r));
      res.json({ ok: true });
    });
    app.get('/fast', (_req, res) => void res.json({ ok: true }));
    const server = await IngressServer.listen(app, 0, '127.0.0.1');
    const agent = new Agent({ keepAlive: true });
    const get = (path: string) =>
      new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
        request({ host: '127.0.0.1', port: server.port, path, agent }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
        })
          .on('error', reject)
          .end();
      });
    expect((await get('/fast')).status).toBe(200); // leaves an idle keep-alive socket
    const slow = get('/slow');
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    const closed = server.close();
    release();
    expect(await slow).toEqual({ status: 200, connection: 'close' });
    await closed;
    expect(Date.now() - started).toBeLessThan(5_000);
    agent.destroy();
  });
});
