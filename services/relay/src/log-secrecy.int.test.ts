import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@cbot-relay/observability';
import { waitFor } from '@cbot-relay/testing';
import type { Harness } from './test-kit/harness.js';
import { ADMIN_KEY, API_KEY, BASIC, CBOT_KEY, OTHER_API_KEY, json, startHarness } from './test-kit/harness.js';

const lines: string[] = [];
const stream = new Writable({
  write(chunk: Buffer, _enc, cb) {
    lines.push(chunk.toString());
    cb();
  },
});

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ log: createLogger({ level: 'trace', stream }), env: { CBOT_APP_SECRET: 'app-secret-xyz' } });
});
afterAll(async () => {
  await h.close();
});

describe('logs of a full run', () => {
  it('never contain an API key, a credential or a message body', async () => {
    const secretText = 'Gizli sipariş kodu 774411';
    const ok = await h.send({ to: '905551234567', type: 'text', text: { body: secretText } }, { 'idempotency-key': 'idem-secret-1' });
    const { id } = await json<{ id: string }>(ok);
    await waitFor(async () => (await json<{ status: string }>(await h.get(id))).status === 'read');
    h.sim.failNext(400, 1);
    const failed = await json<{ id: string }>(await h.send({ to: '905551234568', type: 'text', text: { body: secretText } }));
    await waitFor(async () => (await json<{ status: string }>(await h.get(failed.id))).status === 'failed');
    h.sim.failNext(500, 2);
    const retried = await json<{ id: string }>(await h.send({ to: '905551234569', type: 'text', text: { body: secretText } }));
    await waitFor(async () => (await json<{ status: string }>(await h.get(retried.id))).status === 'read');
    await h.send('{"to":', {});
    await fetch(`${h.base}/v1/messages`, { method: 'POST', headers: { authorization: 'Bearer not-a-key-000', 'content-type': 'application/json' }, body: '{}' });
    await h.admin('/v1/dead-letters');
    await fetch(`${h.base}/webhooks/cbot`, { method: 'POST', headers: { authorization: BASIC, 'content-type': 'application/json' }, body: JSON.stringify({ messages: [{ id: 'in-1', from: '90555', type: 'text', text: { body: secretText } }] }) });
    await fetch(`${h.base}/webhooks/cbot`, { method: 'POST', headers: { authorization: 'Basic d3Jvbmc6d3Jvbmc=' }, body: '{}' });
    await fetch(`${h.base}/webhooks/cbot`, { method: 'POST', headers: { 'x-hub-signature-256': 'sha256=00', 'content-type': 'application/json' }, body: '{}' });
    await h.relay.close();

    const all = lines.join('');
    expect(lines.length).toBeGreaterThan(10);
    for (const secret of [API_KEY, OTHER_API_KEY, ADMIN_KEY, CBOT_KEY, 's3cr3t-pass', BASIC.slice(6), 'app-secret-xyz', secretText, 'idem-secret-1']) {
      expect(all, `log contains ${secret.slice(0, 4)}…`).not.toContain(secret);
    }
  });
});
