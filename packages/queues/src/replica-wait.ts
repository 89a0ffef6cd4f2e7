import type { Cluster, Redis } from 'ioredis';
import type { RedisClient } from './redis.js';

/**
 * REDIS_WAIT_REPLICAS: how many replicas have every write this client made, asked with Redis `WAIT`
 * on the connection that wrote (WAIT counts the replicas that reached that connection's last write).
 *
 * One WAIT at a time per connection, shared: a caller whose write is done joins the next WAIT sent,
 * never one already in flight (that one may have been sent before its write). WAIT blocks its
 * connection while it waits, so sharing it keeps the connection's other commands from queueing
 * behind one WAIT per request.
 *
 * On Redis Cluster each primary has its own connection: WAIT is sent to every primary and the fewest
 * replicas counts (a write's partition may be on any of them; a primary this client did not write to
 * answers at once with what its replicas have).
 */
export class ReplicaWait {
  #inFlight: Promise<number> | undefined;
  #next: Promise<number> | undefined;

  constructor(
    private readonly client: RedisClient,
    readonly replicas: number,
    readonly timeoutMs: number,
  ) {}

  /** The replicas (fewest over primaries) that have every write this client made before the call. */
  acked(): Promise<number> {
    if (this.#inFlight === undefined) return this.#launch();
    this.#next ??= this.#inFlight.then(
      () => this.#launchNext(),
      () => this.#launchNext(),
    );
    return this.#next;
  }

  /** `acked()` reached `replicas`. */
  async enough(): Promise<boolean> {
    return (await this.acked()) >= this.replicas;
  }

  #launchNext(): Promise<number> {
    this.#next = undefined;
    return this.#launch();
  }

  #launch(): Promise<number> {
    const p = this.#wait();
    this.#inFlight = p;
    const clear = () => {
      if (this.#inFlight === p) this.#inFlight = undefined;
    };
    p.then(clear, clear);
    return p;
  }

  async #wait(): Promise<number> {
    const cluster = (this.client as Partial<Cluster>).isCluster === true;
    if (!cluster) return (this.client as Redis).wait(this.replicas, this.timeoutMs);
    const primaries = (this.client as Cluster).nodes('master');
    if (primaries.length === 0) return 0;
    const counts = await Promise.all(primaries.map((node) => node.wait(this.replicas, this.timeoutMs)));
    return Math.min(...counts);
  }
}
