import type { Cluster, Redis } from 'ioredis';
import type { Logger } from '@cbot-relay/observability';
import type { SubscriberSnapshot, SubscriberStore } from '@cbot-relay/records';

export interface SubscriberWatchOptions {
  store: SubscriberStore;
  /** Duplicated for the Pub/Sub subscription (a subscribed connection can run nothing else). */
  connection: Redis | Cluster;
  /** The version the caller already applied. */
  version: number;
  /** Safety-net poll of the version counter, for a notification lost in a reconnect (ms). */
  pollMs: number;
  onChange: (snapshot: SubscriberSnapshot) => void;
  log: Logger;
}

/**
 * Follows the subscriber list: the store publishes each new version, and a poll of the version
 * counter catches one missed while the Pub/Sub connection was down. Either way the whole list is
 * read again (it is small), so a change is applied once, and in order, whatever told us of it.
 */
export class SubscriberWatch {
  readonly #opts: SubscriberWatchOptions;
  readonly #sub: Redis | Cluster;
  readonly #timer: NodeJS.Timeout;
  #version: number;
  #refreshing: Promise<void> | undefined;
  #again = false;
  #closing: Promise<void> | undefined;

  private constructor(opts: SubscriberWatchOptions, sub: Redis | Cluster) {
    this.#opts = opts;
    this.#version = opts.version;
    this.#sub = sub;
    sub.on('message', () => void this.refresh());
    sub.on('error', (err: unknown) => opts.log.debug({ err }, 'subscriber watch connection error'));
    this.#timer = setInterval(() => void this.#poll(), opts.pollMs);
    this.#timer.unref();
  }

  static async start(opts: SubscriberWatchOptions): Promise<SubscriberWatch> {
    // A Cluster duplicates into a Cluster, a single node into a Redis: either can subscribe.
    const sub = (opts.connection as Redis).duplicate() as Redis | Cluster;
    const watch = new SubscriberWatch(opts, sub);
    await sub.subscribe(opts.store.channel);
    // A change between the caller's snapshot and the subscription would otherwise wait for the poll.
    await watch.refresh();
    return watch;
  }

  get version(): number {
    return this.#version;
  }

  /** Reads the list and applies it when its version is newer; a call during a read runs once more after it. */
  refresh(): Promise<void> {
    if (this.#closing) return Promise.resolve();
    if (this.#refreshing) {
      this.#again = true;
      return this.#refreshing;
    }
    this.#refreshing = (async () => {
      do {
        this.#again = false;
        try {
          const snap = await this.#opts.store.snapshot();
          if (snap.version !== this.#version && !this.#closing) {
            this.#version = snap.version;
            for (const name of snap.invalid) this.#opts.log.error({ subscriber: name }, 'stored subscriber does not parse; ignored');
            this.#opts.onChange(snap);
          }
        } catch (err) {
          this.#opts.log.warn({ err }, 'reading subscribers failed; the next poll tries again');
        }
      } while (this.#again && !this.#closing);
    })().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #poll(): Promise<void> {
    try {
      if ((await this.#opts.store.version()) !== this.#version) await this.refresh();
    } catch (err) {
      this.#opts.log.debug({ err }, 'subscriber version poll failed');
    }
  }

  /** Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#timer);
      await this.#refreshing;
      this.#sub.disconnect();
    })();
    return this.#closing;
  }
}
