import { describe, expect, it } from 'vitest';
import type { CbotTemplate } from '@cbot-relay/messages';
import { createLogger, createMetrics } from '@cbot-relay/observability';
import type { TemplateCatalogOptions } from './template-catalog.js';
import { TemplateCatalog } from './template-catalog.js';

/** The shared store as a map: what TemplateStore keeps in Redis, without Redis. */
function memoryStore() {
  const lists = new Map<string, { listJson: string; atMs: number; stale: boolean }>();
  const locks = new Set<string>();
  return {
    lists,
    locks,
    stamp: async (ch: string) => {
      const l = lists.get(ch);
      return l === undefined ? { stale: false } : { atMs: l.atMs, stale: l.stale };
    },
    read: async (ch: string) => {
      const l = lists.get(ch);
      return l && { listJson: l.listJson, atMs: l.atMs };
    },
    write: async (ch: string, listJson: string, atMs: number) => void lists.set(ch, { listJson, atMs, stale: false }),
    lock: async (ch: string) => (locks.has(ch) ? false : (locks.add(ch), true)),
    unlock: async (ch: string) => void locks.delete(ch),
  };
}

const hello = (status: string): CbotTemplate => ({ name: 'hello', language: 'en', status, components: [{ type: 'BODY', text: 'Hi {{1}}' }] });
const send = { name: 'hello', language: { code: 'en' }, components: [{ type: 'body', parameters: [{ type: 'text', text: 'x' }] }] };

function setup(answers: (CbotTemplate[] | 'fail')[]) {
  let now = 1_000_000;
  let calls = 0;
  const store = memoryStore();
  const metrics = createMetrics();
  const opts: TemplateCatalogOptions = {
    store,
    loaders: new Map([
      [
        'a',
        async () => {
          const answer = answers[Math.min(calls++, answers.length - 1)]!;
          return answer === 'fail' ? { ok: false as const, detail: 'HTTP 500' } : { ok: true as const, templates: answer };
        },
      ],
    ]),
    refreshMs: 600_000,
    pollMs: 0,
    now: () => now,
    log: createLogger({ level: 'silent' }),
    metrics,
  };
  return { catalog: new TemplateCatalog(opts), store, metrics, loads: () => calls, advance: (ms: number) => (now += ms) };
}

describe('TemplateCatalog', () => {
  it('loads a list, checks against it, and reloads only when due or marked stale', async () => {
    const t = setup([[hello('PENDING')], [hello('APPROVED')]]);
    expect(t.catalog.check('a', send)).toBeUndefined(); // nothing loaded: unchecked
    await t.catalog.syncAll();
    expect(t.catalog.check('a', send)?.code).toBe('template_not_approved');
    await t.catalog.syncAll();
    expect(t.loads()).toBe(1);
    t.store.lists.get('a')!.stale = true;
    await t.catalog.syncAll();
    expect(t.loads()).toBe(2);
    expect(t.catalog.check('a', send)).toBeUndefined();
    t.advance(600_001);
    await t.catalog.syncAll();
    expect(t.loads()).toBe(3);
    expect((await t.metrics.templateUnchecked.get()).values[0]?.value).toBe(1);
  });

  it('keeps the last list when a reload fails, counts the failure, and retries only once the lock lapses', async () => {
    const t = setup([[hello('APPROVED')], 'fail', [hello('PAUSED')]]);
    await t.catalog.syncAll();
    t.store.lists.get('a')!.stale = true;
    await t.catalog.syncAll();
    expect(t.catalog.check('a', send)).toBeUndefined();
    expect((await t.metrics.templateLoadFailures.get()).values[0]?.value).toBe(1);
    // The failed load holds the lock: no second call to CBOT until it lapses.
    await t.catalog.syncAll();
    expect(t.loads()).toBe(2);
    t.store.locks.clear();
    await t.catalog.syncAll();
    expect(t.catalog.check('a', send)?.code).toBe('template_not_approved');
  });

  it('takes in a list another ingress loaded, and answers list() from the store or CBOT', async () => {
    const t = setup(['fail']);
    expect(await t.catalog.list('a')).toEqual({ error: 'HTTP 500' });
    t.store.lists.set('a', { listJson: JSON.stringify([hello('REJECTED')]), atMs: 1_000_000, stale: false });
    await t.catalog.syncAll();
    expect(t.catalog.check('a', send)?.code).toBe('template_not_approved');
    expect(await t.catalog.list('a')).toEqual({ templates: [hello('REJECTED')], atMs: 1_000_000 });
    expect(await t.catalog.list('other')).toEqual({ error: 'no CBOT key is configured for this channel here' });
    await t.catalog.close();
    await t.catalog.close();
  });
});
