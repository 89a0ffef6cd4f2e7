import { z } from 'zod';

/** A message's priority as the outbound scripts store it (one letter) and as the API names it. */
export const PRIORITY_NAME: Record<string, 'high' | 'normal' | 'bulk'> = { h: 'high', n: 'normal', b: 'bulk' };

export const Attempt = z.object({
  at: z.string(),
  outcome: z.enum(['sent', 'retry', 'throttled', 'failed', 'expired', 'replayed']),
  httpStatus: z.number().int().optional(),
  error: z.string().optional(),
});
export type Attempt = z.infer<typeof Attempt>;

/** What `GET /v1/messages/{id}` shows. */
export const MessageRecord = z.object({
  id: z.string(),
  status: z.string(),
  to: z.string(),
  type: z.string(),
  cbotMessageId: z.string().nullable(),
  attempts: z.array(Attempt),
  createdAt: z.string(),
  updatedAt: z.string(),
  expiresAt: z.string().optional(),
  error: z.unknown().optional(),
  caller: z.string(),
  priority: z.enum(['high', 'normal', 'bulk']),
  /** The CBOT channel (number) that sends it; records from before channels are `default`. */
  channel: z.string(),
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
    createdAt: iso(h.createdAt),
    updatedAt: iso(h.updatedAt ?? h.createdAt),
    caller: h.caller ?? '',
    priority: PRIORITY_NAME[h.priority ?? 'n'] ?? 'normal',
    channel: h.channel ?? 'default',
  };
  if (h.expiresAt !== undefined) rec.expiresAt = iso(h.expiresAt);
  if (h.error !== undefined && h.error !== '') rec.error = safeJson(h.error);
  return rec;
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}
