import { checkTemplateSend, indexTemplates } from '@cbot-relay/messages';
import type { CbotTemplate, TemplateIndex, TemplateRefusal } from '@cbot-relay/messages';
import type { Logger, Metrics } from '@cbot-relay/observability';
import type { TemplateStore } from '@cbot-relay/records';

/** Loads a channel's templates from CBOT (CbotClient.listTemplates). */
export type TemplateLoader = () => Promise<{ ok: true; templates: CbotTemplate[] } | { ok: false; detail: string }>;

export interface TemplateCatalogOptions {
  store: Pick<TemplateStore, 'stamp' | 'read' | 'write' | 'lock' | 'unlock'>;
  /** Per channel; a channel without one (no CBOT key here) is never checked. */
  loaders: ReadonlyMap<string, TemplateLoader>;
  /** TEMPLATES_REFRESH_S in ms: a list older than this is reloaded from CBOT. */
  refreshMs: number;
  /** How often this process looks at the shared list (one HMGET per channel); 0: only on demand. */
  pollMs: number;
  now: () => number;
  log: Logger;
  metrics: Pick<Metrics, 'templateLoadFailures' | 'templateUnchecked'>;
}

/** A load holds the channel's lock this long (ms): a CBOT that cannot list templates is asked at most this often. */
const LOCK_MS = 10_000;

/**
 * The channels' template lists, shared in Redis (TemplateStore) and kept in this process as an index,
 * so the accept-time check (`check`) reads memory, never Redis. Every `pollMs` the process looks at
 * each list's stamp: a list older than `refreshMs`, or marked stale by a template.status event, is
 * reloaded from CBOT by whichever ingress takes the channel's lock; a newer list is read in.
 */
export class TemplateCatalog {
  readonly #o: TemplateCatalogOptions;
  readonly #local = new Map<string, { index: TemplateIndex; atMs: number }>();
  readonly #timer: NodeJS.Timeout | undefined;
  #syncing: Promise<void> | undefined;
  #closed = false;

  constructor(opts: TemplateCatalogOptions) {
    this.#o = opts;
    if (opts.pollMs > 0 && opts.loaders.size > 0) {
      this.#timer = setInterval(() => void this.syncAll(), opts.pollMs);
      this.#timer.unref();
      void this.syncAll();
    }
  }

  /**
   * A template send on `channel`: the refusal, or undefined when it may go. With no list loaded the
   * send goes unchecked (counted in relay_template_sends_unchecked_total).
   */
  check(channel: string, template: unknown): TemplateRefusal | undefined {
    const local = this.#local.get(channel);
    if (local === undefined) {
      this.#o.metrics.templateUnchecked.inc({ channel });
      return undefined;
    }
    return checkTemplateSend(template, local.index);
  }

  /** The channel's templates for GET /v1/templates: the shared list, loaded from CBOT first when there is none. */
  async list(channel: string): Promise<{ templates: unknown[]; atMs: number } | { error: string }> {
    let stored = await this.#o.store.read(channel);
    if (stored === undefined) {
      const loaded = await this.#load(channel, true);
      if (loaded !== undefined) return { error: loaded };
      stored = await this.#o.store.read(channel);
      if (stored === undefined) return { error: 'no template list is stored' };
    }
    const templates = JSON.parse(stored.listJson) as CbotTemplate[];
    this.#take(channel, templates, stored.atMs);
    return { templates, atMs: stored.atMs };
  }

  /** One pass over every channel (the timer's); passes never overlap. */
  syncAll(): Promise<void> {
    this.#syncing ??= (async () => {
      for (const channel of this.#o.loaders.keys()) {
        if (this.#closed) break;
        await this.#sync(channel).catch((err: unknown) => this.#o.log.warn({ err, channel }, 'template list sync failed'));
      }
    })().finally(() => (this.#syncing = undefined));
    return this.#syncing;
  }

  async #sync(channel: string): Promise<void> {
    const stamp = await this.#o.store.stamp(channel);
    const due = stamp.atMs === undefined || stamp.stale || this.#o.now() - stamp.atMs >= this.#o.refreshMs;
    if (due) await this.#load(channel, false);
    const local = this.#local.get(channel);
    const now = due ? await this.#o.store.stamp(channel) : stamp;
    if (now.atMs !== undefined && now.atMs !== local?.atMs) {
      const stored = await this.#o.store.read(channel);
      if (stored) this.#take(channel, JSON.parse(stored.listJson) as CbotTemplate[], stored.atMs);
    }
  }

  /**
   * Loads from CBOT into the store when this process gets the channel's lock (or `force`, for a
   * caller waiting on the list). Returns why it failed, else undefined (also when another holds the lock).
   */
  async #load(channel: string, force: boolean): Promise<string | undefined> {
    const loader = this.#o.loaders.get(channel);
    if (loader === undefined) return 'no CBOT key is configured for this channel here';
    if (!(await this.#o.store.lock(channel, LOCK_MS)) && !force) return undefined;
    const res = await loader();
    if (!res.ok) {
      // The lock stays until it lapses: the next try is LOCK_MS away, whichever ingress makes it.
      this.#o.metrics.templateLoadFailures.inc({ channel });
      this.#o.log.warn({ channel, detail: res.detail }, 'template list could not be loaded from CBOT; template sends are not checked until it is');
      return res.detail;
    }
    // The load time is the list's version: it must move even when two loads fall in one millisecond.
    const at = Math.max(this.#o.now(), (this.#local.get(channel)?.atMs ?? 0) + 1);
    await this.#o.store.write(channel, JSON.stringify(res.templates), at);
    await this.#o.store.unlock(channel);
    this.#take(channel, res.templates, at);
    this.#o.log.info({ channel, templates: res.templates.length }, 'template list loaded');
    return undefined;
  }

  #take(channel: string, templates: readonly CbotTemplate[], atMs: number): void {
    if (this.#local.get(channel)?.atMs === atMs) return;
    this.#local.set(channel, { index: indexTemplates(templates), atMs });
  }

  /** Stops the timer and waits for a pass in flight. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.#syncing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
