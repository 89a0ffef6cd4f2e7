import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, uniquePrefix, waitFor } from '@cbot-relay/testing';
import type { TestRedis } from '@cbot-relay/testing';
import { consumerAclRules, createConsumer, createConsumerAcl } from './index.js';
import type { ConsumerErrorInfo, RelayEvent } from './index.js';

let server: TestRedis;
let admin: Redis;
const PASSWORD = 'crm-consumer-password-0123';

beforeAll(async () => {
  server = await startTestRedis();
  admin = new Redis(server.url, { maxRetriesPerRequest: null });
});
afterAll(async () => {
  admin.disconnect();
  await server.close();
});

const event = (n: number): RelayEvent => ({
  id: `evt_${n.toString(16).padStart(32, '0')}`,
  type: 'message.received',
  occurredAt: '2024-05-31T16:08:20.000Z',
  receivedAt: '2024-05-31T16:08:21.000Z',
  data: { id: `wamid.${n}`, type: 'text', text: { body: 'hi' } },
});

/** The relay's Redis URL with the restricted user's credentials. */
function urlAs(username: string, password: string): string {
  const u = new URL(server.url);
  u.username = username;
  u.password = password;
  return u.toString();
}

async function produce(prefix: string, subscriber: string, events: RelayEvent[]): Promise<Queue> {
  const q = new Queue(`events.${subscriber}`, { connection: admin, prefix });
  for (const e of events) await q.add(e.type, e, { jobId: e.id, attempts: 3 });
  return q;
}

describe('createConsumerAcl', () => {
  it('lets the user consume its own queue and refuses another subscriber’s queue and the relay’s keys', async () => {
    const prefix = uniquePrefix('acl');
    const mine = await produce(prefix, 'crm', [event(1), event(2)]);
    const theirs = await produce(prefix, 'billing', [event(3)]);
    await admin.set(`${prefix}:msg:msg_1`, 'a record');
    await admin.set(`${prefix}:body:msg_1`, 'a message body');

    const shown = await createConsumerAcl(admin, { prefix, subscriber: 'crm', username: 'crm-consumer', password: PASSWORD });
    expect(shown).toContain('>***');
    expect(shown.join(' ')).not.toContain(PASSWORD);
    await admin.call('ACL', 'LOG', 'RESET');

    const got: string[] = [];
    const errors: [Error, ConsumerErrorInfo][] = [];
    const consumer = createConsumer({
      subscriber: 'crm',
      connection: { url: urlAs('crm-consumer', PASSWORD) },
      prefix,
      handler: async (e) => {
        got.push(e.id);
      },
      onError: (err, info) => errors.push([err, info]),
    });
    await waitFor(async () => (await mine.getJobCounts('completed')).completed === 2, { what: 'own events consumed' });
    await consumer.close();
    expect(got.sort()).toEqual([event(1).id, event(2).id]);
    expect(errors).toEqual([]);
    expect(await admin.call('ACL', 'LOG')).toEqual([]); // nothing the consumer needed was refused

    const denied: Error[] = [];
    const intruder = createConsumer({
      subscriber: 'billing',
      connection: { url: urlAs('crm-consumer', PASSWORD) },
      prefix,
      handler: async () => undefined,
      onError: (err) => denied.push(err),
    });
    await waitFor(() => denied.some((e) => /NOPERM/.test(e.message)), { what: 'another subscriber’s queue refused' });
    await intruder.close();
    expect(await theirs.getJobCounts('wait', 'completed')).toEqual({ wait: 1, completed: 0 });

    const as = new Redis(urlAs('crm-consumer', PASSWORD), { maxRetriesPerRequest: 1 });
    try {
      const refused = (p: Promise<unknown>) => expect(p).rejects.toThrow(/NOPERM/);
      await refused(as.get(`${prefix}:msg:msg_1`));
      await refused(as.get(`${prefix}:body:msg_1`));
      await refused(as.lrange(`${prefix}:events.billing:wait`, 0, -1));
      await refused(as.del(`${prefix}:events.billing:wait`));
      await refused(as.eval(`return redis.call('get', KEYS[1])`, 1, `${prefix}:msg:msg_1`));
      await refused(as.keys('*'));
      await refused(as.flushall());
      await refused(as.publish('anything', 'x'));
      await refused(as.call('ACL', 'SETUSER', 'crm-consumer', 'allkeys'));
      await refused(as.call('CONFIG', 'GET', '*'));
      await expect(as.exists(`${prefix}:events.crm:meta`)).resolves.toBe(1); // its own keys: readable
    } finally {
      as.disconnect();
    }
    await mine.close();
    await theirs.close();
  });

  it('refuses names that could widen the key pattern, and matches a prefix with glob characters literally', () => {
    const base = { prefix: 'p', username: 'u', password: PASSWORD };
    expect(() => consumerAclRules({ ...base, subscriber: 'crm*' })).toThrow(/subscriber/);
    expect(() => consumerAclRules({ ...base, subscriber: 'crm', username: 'default' })).toThrow(/username/);
    expect(() => consumerAclRules({ ...base, subscriber: 'crm', password: 'short' })).toThrow(/password/);
    expect(consumerAclRules({ ...base, prefix: '{cbot-relay}*', subscriber: 'crm', cluster: true })).toContain('~{cbot-relay}\\*:{events.crm}:*');
  });
});
