import { z } from 'zod';
import { MessageStatus, PRICING_TYPES, Pricing } from '@cbot-relay/messages';
import { ATTEMPT_CODES, HISTORY_CODES } from './history.js';

/** A message's priority as the outbound scripts store it (one letter) and as the API names it. */
export const PRIORITY_NAME: Record<string, 'high' | 'normal' | 'bulk'> = { h: 'high', n: 'normal', b: 'bulk' };

export const Attempt = z.object({
  at: z.string(),
  /**
   * `unknown`: the answer to the attempt before was lost, and the message waits for a status that
   * identifies it; `reconciled`: one did, so the message is recorded sent and not sent again.
   */
  outcome: z.enum(['sent', 'retry', 'throttled', 'failed', 'expired', 'replayed', 'unknown', 'reconciled']),
  httpStatus: z.number().int().optional(),
  error: z.string().optional(),
  detail: z.string().optional(),
});
export type Attempt = z.infer<typeof Attempt>;

/** Every outcome has its letter (history.ts's ATTEMPT_CODES, see attemptField). */
const CODE_OF_OUTCOME: Record<Attempt['outcome'], string> = ATTEMPT_CODES;
const OUTCOME_OF_CODE = new Map<string, Attempt['outcome']>((Object.entries(CODE_OF_OUTCOME) as [Attempt['outcome'], string][]).map(([o, c]) => [c, o]));
const COMPACT_ATTEMPT = /^([a-z])([0-9a-z]{1,11})(?:\/(\d{1,3}))?$/;

/**
 * An attempt as one line of the record's `attempts` field. One with no error or detail (a send that
 * went through, an expiry) is `<code><ms, base 36>[/<HTTP status>]`, e.g. `smib3k2x1/200` (13 bytes
 * instead of the 67 of its JSON): the record's values then stay under hash-max-listpack-value (64
 * bytes) and Redis keeps the hash a listpack (about 250 B for a sent record instead of 1,050 B as a
 * hashtable). Attempts with an error or a detail stay JSON lines, as every line of an older release's
 * record is; attemptFromLine reads both.
 */
export function attemptField(a: Attempt): string {
  const ms = Date.parse(a.at);
  const exact = Number.isFinite(ms) && ms >= 0 && new Date(ms).toISOString() === a.at;
  const plainStatus = a.httpStatus === undefined || (Number.isInteger(a.httpStatus) && a.httpStatus >= 0 && a.httpStatus <= 999);
  if (!exact || !plainStatus || a.error !== undefined || a.detail !== undefined) return JSON.stringify(a);
  return `${CODE_OF_OUTCOME[a.outcome]}${ms.toString(36)}${a.httpStatus === undefined ? '' : `/${a.httpStatus}`}`;
}

/** One line of `attempts`: compact (attemptField) or JSON (an attempt with a detail, or an older release's). */
export function attemptFromLine(line: string): Attempt | undefined {
  const m = COMPACT_ATTEMPT.exec(line);
  if (m) {
    const outcome = OUTCOME_OF_CODE.get(m[1]!);
    if (outcome === undefined) return undefined;
    return { at: new Date(parseInt(m[2]!, 36)).toISOString(), outcome, ...(m[3] === undefined ? {} : { httpStatus: Number(m[3]) }) };
  }
  const parsed = Attempt.safeParse(safeJson(line));
  return parsed.success ? parsed.data : undefined;
}

const isoTime = z.iso.datetime({ offset: true });

/**
 * One step of a message's timeline: the status it reached and when the relay recorded it; for a status
 * from a CBOT callback, CBOT's own `timestamp` as `cbotAt`; for the latest `failed`, the error.
 * The API's description (packages/api) documents `history` with this schema.
 */
export const HistoryEntry = z
  .object({
    status: z.union([MessageStatus, z.literal('fallback')]).meta({
      description: 'the status reached, or `fallback`: where the relay chose to send the message\'s fallback template instead (customer-service window)',
    }),
    at: isoTime.meta({ description: 'when the relay recorded the status' }),
    cbotAt: isoTime.optional().meta({ description: "CBOT's own time of the status, where a callback gave one" }),
    error: z.unknown().optional().meta({ description: 'the CBOT error, on the latest `failed`' }),
  })
  .meta({ description: 'one status the message reached, in the order reached' });
export type HistoryEntry = z.infer<typeof HistoryEntry>;

/** What `GET /v1/messages/{id}` shows. */
export const MessageRecord = z.object({
  id: z.string(),
  status: z.string(),
  to: z.string(),
  type: z.string(),
  cbotMessageId: z.string().nullable(),
  attempts: z.array(Attempt),
  history: z.array(HistoryEntry),
  createdAt: z.string(),
  updatedAt: z.string(),
  expiresAt: z.string().optional(),
  error: z.unknown().optional(),
  caller: z.string(),
  priority: z.enum(['high', 'normal', 'bulk']),
  /** The CBOT channel (number) that sends it; records from before channels are `default`. */
  channel: z.string(),
  /** Only for a message sent with a `fallback`: which body went (or goes) to CBOT. */
  sentBody: z.enum(['message', 'fallback']).optional(),
  /** X-Relay-Tag, when the send had one. */
  tag: z.string().optional(),
  /** X-Relay-Send-At, when the message was scheduled (a send time in the past is not kept). */
  sendAt: z.string().optional(),
  pricing: Pricing.optional(),
});
export type MessageRecord = z.infer<typeof MessageRecord>;

export function recordFromHash(id: string, h: Record<string, string>): MessageRecord | undefined {
  if (h.status === undefined) return undefined;
  const iso = (ms: string | undefined) => new Date(Number(ms ?? 0)).toISOString();
  const attempts: Attempt[] = [];
  for (const line of (h.attempts ?? '').split('\n')) {
    const attempt = line === '' ? undefined : attemptFromLine(line);
    if (attempt) attempts.push(attempt);
  }
  const rec: MessageRecord = {
    id,
    status: h.status,
    to: h.to ?? '',
    type: h.type ?? '',
    cbotMessageId: h.wamid ?? null,
    attempts,
    history: [],
    createdAt: iso(h.createdAt),
    updatedAt: iso(h.updatedAt ?? h.createdAt),
    caller: h.caller ?? '',
    priority: PRIORITY_NAME[h.priority ?? 'n'] ?? 'normal',
    channel: h.channel ?? 'default',
  };
  if (h.expiresAt !== undefined) rec.expiresAt = iso(h.expiresAt);
  if (h.fb !== undefined) rec.sentBody = h.fb === '2' ? 'fallback' : 'message';
  if (h.tag !== undefined) rec.tag = h.tag;
  if (h.due !== undefined) rec.sendAt = iso(h.due);
  const pricing = pricingFromField(h.pr);
  if (pricing !== undefined) rec.pricing = pricing;
  if (h.error !== undefined && h.error !== '') rec.error = safeJson(h.error);
  rec.history = historyFromField(h.hist, Number(h.createdAt ?? 0), rec);
  return rec;
}

const STATUS_OF_CODE = new Map<string, HistoryEntry['status']>((Object.entries(HISTORY_CODES) as [HistoryEntry['status'], string][]).map(([status, code]) => [code, status]));
const HISTORY_ENTRY = /^([a-z])([0-9a-z]+)(?:~([0-9a-z]+))?$/;

/** Reads the `hist` field (see lua/includes/history.lua); a record from before it has its current status only. */
function historyFromField(hist: string | undefined, createdAtMs: number, rec: MessageRecord): HistoryEntry[] {
  if (hist === undefined || hist === '') {
    const first: HistoryEntry = { status: 'queued', at: rec.createdAt };
    const now = MessageStatus.safeParse(rec.status);
    return !now.success || now.data === 'queued' ? [first] : [first, { status: now.data, at: rec.updatedAt }];
  }
  const out: HistoryEntry[] = [];
  for (const part of hist.split(',')) {
    const m = HISTORY_ENTRY.exec(part);
    const status = m ? STATUS_OF_CODE.get(m[1]!) : undefined;
    if (!m || status === undefined) continue;
    const entry: HistoryEntry = { status, at: new Date(createdAtMs + parseInt(m[2]!, 36)).toISOString() };
    if (m[3] !== undefined) entry.cbotAt = new Date(parseInt(m[3], 36) * 1000).toISOString();
    out.push(entry);
  }
  const lastFailed = out.findLastIndex((e) => e.status === 'failed');
  if (lastFailed >= 0 && rec.error !== undefined) out[lastFailed]!.error = rec.error;
  return out;
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

/**
 * The record's `pr` field: "<1|0>|<model>|<category>|<type>", short enough (under 64 bytes) to keep
 * the record hash a listpack. The usage buckets read category and type from its tail.
 */
export function pricingField(p: Pricing): string {
  return `${p.billable ? 1 : 0}|${(p.model ?? '').replace(/\|/g, '')}|${p.category}|${p.type}`;
}

function pricingFromField(field: string | undefined): Pricing | undefined {
  if (field === undefined) return undefined;
  const [billable, model, category, type] = field.split('|');
  if (category === undefined || !(PRICING_TYPES as readonly string[]).includes(type ?? '')) return undefined;
  return { billable: billable === '1', model: model === '' || model === undefined ? null : model, category, type: type as Pricing['type'] };
}
