import type { Cluster, Redis } from 'ioredis';
import type { PartitionKeys } from './keys.js';
import { defineScript, replyArray, replyOneOf, replyString } from './lua/script.js';
import type { Script } from './lua/script.js';

/** A read receipt leased to this worker by a claim (includes/claim-receipts.lua): mark `wamid` read at CBOT. */
export interface ReceiptLease {
  wamid: string;
  /** Fencing token: only the current holder's settle moves the receipt. */
  token: string;
  /** Also show the typing indicator (Cloud only). */
  typing: boolean;
  failures: number;
  acceptedAtMs: number;
  caller: string;
  channel: string;
  /** The outbound partition the receipt is queued in. */
  partition: number;
}

/** A receipt the claim dropped without sending: its 24 h window closed (`missing`), or older than the maximum age. */
export interface DroppedReceipt {
  reason: 'missing' | 'max_age';
  wamid: string;
}

export interface ReceiptInput {
  wamid: string;
  channel: string;
  typing: boolean;
  caller: string;
  nowMs: number;
}

export type ReceiptAcceptResult = 'created' | 'duplicate' | 'full';

/** How a receipt's attempt ended: `retry` waits until untilMs (counted as a failure when `counts`). */
export type ReceiptOutcome =
  | { kind: 'sent' }
  | { kind: 'failed'; error: unknown }
  | { kind: 'retry'; untilMs: number; counts: boolean; maxAttempts: number; error: unknown };

export type ReceiptSettled = { kind: 'sent' | 'failed' | 'held' | 'stale'; failures: number };

const ACCEPT_KINDS = ['created', 'duplicate', 'full'] as const;
const SETTLE_KINDS = ['sent', 'failed', 'held', 'stale'] as const;
const KEYS = ['receipt', 'receipts'] as const;
type Keys = (typeof KEYS)[number];
const ACCEPT_ARGS = ['base', 'now', 'wamid', 'typing', 'caller', 'ttl', 'max'] as const;
const SETTLE_ARGS = ['wamid', 'tok', 'outcome', 'counts', 'untilMs', 'maxAttempts', 'errorJson'] as const;

/** One partition's read receipts: queued once per wamid (receipt-accept.lua), settled after each attempt (receipt-settle.lua). */
export class PartitionReceipts {
  readonly #keys: PartitionKeys;
  readonly #ttlS: number;
  readonly #max: number;
  readonly #accept: Script<Keys, (typeof ACCEPT_ARGS)[number], ReceiptAcceptResult>;
  readonly #settle: Script<Keys, (typeof SETTLE_ARGS)[number], ReceiptSettled>;

  constructor(redis: Redis | Cluster, keys: PartitionKeys, opts: { ttlS: number; max: number }) {
    this.#keys = keys;
    this.#ttlS = opts.ttlS;
    this.#max = opts.max;
    this.#accept = defineScript(redis, { name: 'receipt-accept', keys: KEYS, args: ACCEPT_ARGS, parse: (r) => replyOneOf(r, ACCEPT_KINDS, 'receipt-accept') });
    this.#settle = defineScript(redis, {
      name: 'receipt-settle',
      keys: KEYS,
      args: SETTLE_ARGS,
      parse: (reply) => {
        const [kind, failures] = replyArray(reply, 'receipt-settle');
        return { kind: replyOneOf(kind, SETTLE_KINDS, 'receipt-settle'), failures: Number(failures) };
      },
    });
  }

  #keysOf(channel: string, wamid: string): Record<Keys, string> {
    const ch = this.#keys.channel(channel);
    return { receipt: ch.receipt(wamid), receipts: ch.receipts };
  }

  accept(input: ReceiptInput): Promise<ReceiptAcceptResult> {
    return this.#accept(this.#keysOf(input.channel, input.wamid), {
      base: this.#keys.base,
      now: input.nowMs,
      wamid: input.wamid,
      typing: input.typing ? 1 : 0,
      caller: input.caller,
      ttl: this.#ttlS,
      max: this.#max,
    });
  }

  settle(lease: ReceiptLease, outcome: ReceiptOutcome): Promise<ReceiptSettled> {
    return this.#settle(this.#keysOf(lease.channel, lease.wamid), {
      wamid: lease.wamid,
      tok: lease.token,
      outcome: outcome.kind,
      counts: outcome.kind === 'retry' && outcome.counts ? 1 : 0,
      untilMs: outcome.kind === 'retry' ? Math.round(outcome.untilMs) : 0,
      maxAttempts: outcome.kind === 'retry' ? outcome.maxAttempts : 0,
      errorJson: outcome.kind === 'sent' ? '' : JSON.stringify(outcome.error ?? null),
    });
  }
}

/** The claim's fifth element, {jobs, dropped} (absent when the channel was paused). */
export function parseClaimReceipts(cell: unknown, channel: string, partition: number): { receipts: ReceiptLease[]; droppedReceipts: DroppedReceipt[] } {
  if (cell === undefined || cell === null) return { receipts: [], droppedReceipts: [] };
  const [jobs, dropped] = replyArray(cell, 'claim');
  return {
    receipts: replyArray(jobs, 'claim').map((job) => {
      const [wamid, token, typing, failures, acceptedAt, caller] = replyArray(job, 'claim').map((c) => replyString(c, 'claim'));
      return { wamid: wamid!, token: token!, typing: typing === '1', failures: Number(failures), acceptedAtMs: Number(acceptedAt), caller: caller!, channel, partition };
    }),
    droppedReceipts: replyArray(dropped, 'claim').map((d) => {
      const [reason, wamid] = replyArray(d, 'claim').map((c) => replyString(c, 'claim'));
      return { reason: reason === 'max_age' ? 'max_age' : 'missing', wamid: wamid! };
    }),
  };
}
