import { z } from 'zod';
import { MessageStatus, PRICING_TYPES, Pricing } from '@cbot-relay/messages';
import { HISTORY_CODES } from './history.js';

/** A message's priority as the outbound scripts store it (one letter) and as the API names it. */
export const PRIORITY_NAME: Record<string, 'high' | 'normal' | 'bulk'> = { h: 'high', n: 'normal', b: 'bulk' };

export const Attempt = z.object({
  at: z.string(),
  outcome: z.enum(['sent', 'retry', 'throttled', 'failed', 'expired', 'replayed']),
  httpStatus: z.number().int().optional(),
  error: z.string().optional(),
});
export type Attempt = z.infer<typeof Attempt>;

const isoTime = z.iso.datetime({ offset: true });

/**
 * One step of a message's timeline: the status it reached and when the relay recorded it; for a status
 * from a CBOT callback, CBOT's own `timestamp` as `cbotAt`; for the latest `failed`, the error.
 * The API's description (packages/api) documents `history` with this schema.
 */
export const HistoryEntry = z
  .object({
    status: MessageStatus,
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
  pricing: Pricing.optional(),
});
export type MessageRecord = z.infer<typeof MessageRecord>;

export function recordFromHash(id: string, h: Record<string, string>): MessageRecord | undefined {
  if (h.status === undefined) return undefined;
  const iso = (ms: string | undefined) => new Date(Number(ms ?? 0)).toISOString();
  const attempts: Attempt[] = [];
  for (const line of (h.attempts ?? '').split('\n')) {
    if (line === '') continue;
    const parsed = Attempt.safeParse(safeJson(line));
    if (parsed.success) attempts.push(parsed.data);
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
  const pricing = pricingFromField(h.pr);
  if (pricing !== undefined) rec.pricing = pricing;
  if (h.error !== undefined && h.error !== '') rec.error = safeJson(h.error);
  rec.history = historyFromField(h.hist, Number(h.createdAt ?? 0), rec);
  return rec;
}

const STATUS_OF_CODE = new Map<string, MessageStatus>((Object.entries(HISTORY_CODES) as [MessageStatus, string][]).map(([status, code]) => [code, status]));
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
