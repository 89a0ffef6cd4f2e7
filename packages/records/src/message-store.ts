import type { Cluster, Redis } from 'ioredis';
import { Coalescer, MAX_BATCH_CHARS, batchCall, luaCommand } from '@cbot-relay/queues';
import type { StandardJobCall } from '@cbot-relay/queues';
import type { Attempt, MessageRecord } from './message-record.js';
import { recordFromHash } from './message-record.js';
import { ACCEPT, ACCEPT_AND_ENQUEUE_BATCH, ACCEPT_SHAPE, APPLY_STATUS, BEGIN, DISCARD_ORPHAN, FINISH, REPLAY_AND_ENQUEUE } from './scripts.js';

export interface MessageStoreOptions {
  redis: Redis | Cluster;
  prefix: string;
  recordTtlS: number;
  /** The contract's Idempotency-Key window. */
  idempotencyTtlS?: number;
  /** How long a CBOT message id maps back to the relay id: callbacks come for up to 7 days (Cloud). */
  wamidTtlS?: number;
  /** Most accepts sent to Redis as one script call (see acceptAndEnqueue). */
  maxAcceptBatch?: number;
}

export interface AcceptInput {
  id: string;
  to: string;
  type: string;
  caller: string;
  nowMs: number;
  body: string;
  expiresAtMs?: number;
  idempotency?: { key: string; fingerprint: string };
}

export type AcceptResult =
  | { kind: 'created'; id: string }
  | { kind: 'duplicate'; id: string }
  | { kind: 'conflict'; id: string };

export type BeginResult =
  | { kind: 'missing' }
  | { kind: 'done'; status: string }
  | { kind: 'expired' }
  | { kind: 'too-old' }
  /** The record outlived its body (RECORD_TTL_S passed while it was stuck): it can only fail. */
  | { kind: 'no-body' }
  | { kind: 'go'; ambiguous: boolean; failures: number; body: string; acceptedAtMs: number };

export type FinishOutcome =
  | { outcome: 'sent'; wamid: string }
  | { outcome: 'retry'; countsAsFailure: boolean; keepInflight: boolean }
  | { outcome: 'failed'; error: unknown }
  | { outcome: 'expired' };

export type ReplayResult =
  | { kind: 'replayed'; to: string }
  | { kind: 'missing' }
  | { kind: 'not-failed'; status: string }
  | { kind: 'no-body' };

type Eval = (keys: string[], args: (string | number | Buffer)[]) => Promise<string[]>;

/**
 * The message records: status, attempts and the correlation from CBOT message ids, kept exactly once
 * however often a worker re-runs. Every transition is one Lua script (see scripts.ts).
 */
export class MessageStore {
  readonly #redis: Redis | Cluster;
  readonly #p: string;
  readonly #recordTtlS: number;
  readonly #idemTtlS: number;
  readonly #wamidTtlS: number;
  readonly #scripts: Record<'accept' | 'begin' | 'finish' | 'applyStatus' | 'discard' | 'replay', Eval>;
  readonly #acceptBatch: (keys: string[], args: (string | number | Buffer)[]) => Promise<unknown>;
  readonly #accepts: Coalescer<{ input: AcceptInput; job: StandardJobCall }, AcceptResult>;

  constructor(opts: MessageStoreOptions) {
    this.#redis = opts.redis;
    this.#p = opts.prefix;
    this.#recordTtlS = opts.recordTtlS;
    this.#idemTtlS = opts.idempotencyTtlS ?? 86_400;
    this.#wamidTtlS = opts.wamidTtlS ?? 8 * 86_400;
    const def = (lua: string, keys: number | 'any'): Eval => {
      const run = luaCommand(this.#redis, lua, keys);
      return async (k, a) => (await run(k, a)) as string[];
    };
    this.#scripts = {
      accept: def(ACCEPT, 4),
      begin: def(BEGIN, 3),
      finish: def(FINISH, 6),
      applyStatus: def(APPLY_STATUS, 3),
      discard: def(DISCARD_ORPHAN, 3),
      replay: def(REPLAY_AND_ENQUEUE, 13),
    };
    this.#acceptBatch = luaCommand(this.#redis, ACCEPT_AND_ENQUEUE_BATCH, 'any');
    this.#accepts = new Coalescer((items) => this.#acceptAndEnqueueBatch(items), {
      maxBatch: opts.maxAcceptBatch ?? 100,
      maxBatchWeight: MAX_BATCH_CHARS,
      weigh: ({ input }) => input.body.length,
    });
  }

  recKey(id: string): string {
    return `${this.#p}:msg:${id}`;
  }
  #bodyKey(id: string): string {
    return `${this.#p}:body:${id}`;
  }
  get #openKey() {
    return `${this.#p}:open`;
  }
  get #dlqKey() {
    return `${this.#p}:dlq`;
  }
  #wamidKey(wamid: string) {
    return `${this.#p}:wamid:${wamid}`;
  }
  #wpendKey(wamid: string) {
    return `${this.#p}:wpend:${wamid}`;
  }

  async accept(input: AcceptInput): Promise<AcceptResult> {
    const [kind, id] = await this.#scripts.accept(this.#acceptKeys(input), this.#acceptArgs(input));
    return { kind: kind as AcceptResult['kind'], id: id ?? input.id };
  }

  /**
   * accept() and, when the message is new, BullMQ's addStandardJob — atomically. Concurrent calls are
   * coalesced: those made while a batch is in Redis go together in the next script call, each still
   * its own atomic accept with its own answer.
   */
  acceptAndEnqueue(input: AcceptInput, job: StandardJobCall): Promise<AcceptResult> {
    return this.#accepts.submit({ input, job });
  }

  async #acceptAndEnqueueBatch(items: { input: AcceptInput; job: StandardJobCall }[]): Promise<(AcceptResult | Error)[]> {
    const { keys, args } = batchCall(
      items.map(({ input, job }) => ({ keys: [...this.#acceptKeys(input), ...job.keys], args: [...this.#acceptArgs(input), ...job.args] })),
      ACCEPT_SHAPE,
    );
    const answers = (await this.#acceptBatch(keys, args)) as [string, string | undefined][];
    return answers.map(([kind, detail], i) =>
      kind === 'error' ? new Error(`accept failed in Redis: ${detail}`) : { kind: kind as AcceptResult['kind'], id: detail ?? items[i]!.input.id },
    );
  }

  #acceptKeys(input: AcceptInput): string[] {
    const idemKey = input.idempotency ? `${this.#p}:idem:${input.caller}:${input.idempotency.key}` : `${this.#p}:idem:-`;
    return [this.recKey(input.id), idemKey, this.#openKey, this.#bodyKey(input.id)];
  }

  #acceptArgs(input: AcceptInput): (string | number)[] {
    return [
      input.id,
      input.to,
      input.type,
      input.caller,
      input.nowMs,
      input.expiresAtMs ?? '',
      input.idempotency?.fingerprint ?? '',
      this.#idemTtlS,
      this.#recordTtlS,
      input.body,
    ];
  }

  async get(id: string): Promise<MessageRecord | undefined> {
    return recordFromHash(id, await this.#redis.hgetall(this.recKey(id)));
  }

  async status(id: string): Promise<string | undefined> {
    return (await this.#redis.hget(this.recKey(id), 'status')) ?? undefined;
  }

  async begin(id: string, nowMs: number, maxAgeMs: number): Promise<BeginResult> {
    const r = await this.#scripts.begin([this.recKey(id), `${this.#p}:ambiguous`, this.#bodyKey(id)], [nowMs, maxAgeMs]);
    switch (r[0]) {
      case 'done':
        return { kind: 'done', status: r[1] ?? '' };
      case 'expired':
        return { kind: 'expired' };
      case 'too-old':
        return { kind: 'too-old' };
      case 'no-body':
        return { kind: 'no-body' };
      case 'go':
        return { kind: 'go', ambiguous: r[1] === '1', failures: Number(r[2]), body: r[3] ?? '{}', acceptedAtMs: Number(r[4]) };
      default:
        return { kind: 'missing' };
    }
  }

  /** Records one attempt's end. For `retry` returns the failures counted so far. */
  async finish(id: string, nowMs: number, o: FinishOutcome, attempt?: Attempt): Promise<{ applied: boolean; failures: number }> {
    const wamid = o.outcome === 'sent' ? o.wamid : '';
    const r = await this.#scripts.finish(
      [this.recKey(id), this.#openKey, this.#wamidKey(wamid), this.#wpendKey(wamid), this.#dlqKey, this.#bodyKey(id)],
      [
        o.outcome,
        nowMs,
        attempt ? JSON.stringify(attempt) : '',
        wamid,
        this.#wamidTtlS,
        o.outcome === 'retry' && o.countsAsFailure ? 1 : 0,
        o.outcome === 'retry' && o.keepInflight ? 1 : 0,
        o.outcome === 'failed' ? JSON.stringify(o.error ?? null) : '',
        this.#recordTtlS,
        id,
      ],
    );
    return { applied: r[0] === 'ok', failures: o.outcome === 'retry' ? Number(r[1] ?? 0) : 0 };
  }

  /** Applies a CBOT status callback; returns the relay id when the wamid is one of ours. */
  async applyStatus(wamid: string, status: string, nowMs: number, errors?: unknown): Promise<{ relayId?: string; applied: boolean }> {
    const r = await this.#scripts.applyStatus(
      [this.#wamidKey(wamid), this.#wpendKey(wamid), this.#dlqKey],
      [status, nowMs, errors === undefined ? '' : JSON.stringify(errors), this.#wamidTtlS, `${this.#p}:msg:`, this.#recordTtlS, `${this.#p}:body:`],
    );
    return { relayId: r[1], applied: r[0] === 'applied' };
  }

  /** A failed message back to 'queued' with a new job (jobFor builds it for the recipient's lane), atomically. */
  async replay(id: string, nowMs: number, jobFor: (to: string) => StandardJobCall): Promise<ReplayResult> {
    const to = await this.#redis.hget(this.recKey(id), 'to');
    if (to === null) return { kind: 'missing' };
    const attempt: Attempt = { at: new Date(nowMs).toISOString(), outcome: 'replayed' };
    const job = jobFor(to);
    const r = await this.#scripts.replay(
      [this.recKey(id), this.#dlqKey, this.#openKey, this.#bodyKey(id), ...job.keys],
      [nowMs, JSON.stringify(attempt), this.#recordTtlS, id, ...job.args],
    );
    switch (r[0]) {
      case 'ok':
        return { kind: 'replayed', to: r[1] ?? to };
      case 'not-failed':
        return { kind: 'not-failed', status: r[1] ?? '' };
      case 'no-body':
        return { kind: 'no-body' };
      default:
        return { kind: 'missing' };
    }
  }

  /** Newest first. `before` is the score (ms) to page from. */
  async deadLetters(limit: number, beforeMs?: number): Promise<{ records: MessageRecord[]; next?: number }> {
    const max = beforeMs === undefined ? '+inf' : `(${beforeMs}`;
    const flat = await this.#redis.zrevrangebyscore(this.#dlqKey, max, '-inf', 'WITHSCORES', 'LIMIT', 0, limit);
    const records: MessageRecord[] = [];
    let last: number | undefined;
    for (let i = 0; i < flat.length; i += 2) {
      const id = flat[i]!;
      last = Number(flat[i + 1]);
      const rec = await this.get(id);
      if (rec) records.push(rec);
    }
    return { records, next: flat.length / 2 === limit ? last : undefined };
  }

  /** Resends after a possibly lost CBOT answer, over all dispatchers since the start (kept in Redis). */
  async ambiguousResends(): Promise<number> {
    return Number((await this.#redis.get(`${this.#p}:ambiguous`)) ?? 0);
  }

  /** How often this message was resent after a possibly lost answer. */
  async resends(id: string): Promise<number> {
    return Number((await this.#redis.hget(this.recKey(id), 'resends')) ?? 0);
  }

  /** Accepted messages that have not ended (sent, failed or expired). */
  async backlog(): Promise<number> {
    return this.#redis.zcard(this.#openKey);
  }

  /** Open messages accepted before `beforeMs`, oldest first, with what the sweeper needs. */
  async openBefore(beforeMs: number, afterMs: number, limit: number): Promise<{ id: string; at: number; status?: string; job?: string; to?: string }[]> {
    const flat = await this.#redis.zrangebyscore(this.#openKey, `(${afterMs}`, beforeMs, 'WITHSCORES', 'LIMIT', 0, limit);
    const out: { id: string; at: number; status?: string; job?: string; to?: string }[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      const id = flat[i]!;
      const [status, job, to] = await this.#redis.hmget(this.recKey(id), 'status', 'job', 'to');
      out.push({ id, at: Number(flat[i + 1]), ...(status ? { status } : {}), ...(job ? { job } : {}), ...(to ? { to } : {}) });
    }
    return out;
  }

  /** Drops a never-acknowledged record (see DISCARD_ORPHAN). True when it was dropped. */
  async discardOrphan(id: string): Promise<boolean> {
    const [outcome] = await this.#scripts.discard([this.recKey(id), this.#openKey, this.#bodyKey(id)], [id]);
    return outcome === 'dropped';
  }
}
