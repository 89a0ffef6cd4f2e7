import type { Cluster, Redis } from 'ioredis';

export const DAY_MS = 86_400_000;
/** How long a day's usage bucket is kept (s): a bit over a year, so a year-on-year question can be answered. */
export const USAGE_TTL_S = 400 * 86_400;

export interface UsageQuery {
  sinceMs: number;
  untilMs: number;
  channel?: string;
  /** Only this caller's counts; every caller's when absent. */
  caller?: string;
}

export interface UsageRow {
  channel: string;
  caller: string;
  category: string;
  type: string;
  count: number;
}

/** The UTC day numbers (days since the epoch) a [since, until) range touches: whole days, since rounded down, until up. */
export function usageDays(sinceMs: number, untilMs: number): number[] {
  const first = Math.floor(sinceMs / DAY_MS);
  const last = Math.ceil(untilMs / DAY_MS) - 1;
  return Array.from({ length: Math.max(0, last - first + 1) }, (_, i) => first + i);
}

/**
 * Sums the daily buckets (hash `<prefix><day>`, field "<channel>|<caller>|<category>|<type>" →
 * count; written by lua/includes/pricing.lua) of every partition over the query's days. One HGETALL
 * per day and partition, sent together: a 30-day question on one partition is 30 small reads.
 */
export async function readUsage(redis: Redis | Cluster, prefixes: readonly string[], q: UsageQuery): Promise<UsageRow[]> {
  const days = usageDays(q.sinceMs, q.untilMs);
  const hashes = await Promise.all(prefixes.flatMap((p) => days.map((d) => redis.hgetall(`${p}${d}`))));
  const sums = new Map<string, number>();
  for (const h of hashes) {
    for (const [field, n] of Object.entries(h)) sums.set(field, (sums.get(field) ?? 0) + Number(n));
  }
  const rows: UsageRow[] = [];
  for (const [field, count] of sums) {
    const parts = field.split('|');
    if (parts.length !== 4) continue;
    const [channel, caller, category, type] = parts as [string, string, string, string];
    if (q.channel !== undefined && channel !== q.channel) continue;
    if (q.caller !== undefined && caller !== q.caller) continue;
    rows.push({ channel, caller, category, type, count });
  }
  return rows.sort((a, b) => cmp(a.caller, b.caller) || cmp(a.channel, b.channel) || cmp(a.category, b.category) || cmp(a.type, b.type));
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
