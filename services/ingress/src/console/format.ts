/** `2026-12-06 04:55:32Z`: UTC, to the second, as every console page shows times. */
export function shortTime(iso: string | number | null | undefined): string {
  if (iso === null || iso === undefined) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : `${d.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** A time field of a filter form: ISO 8601, or a datetime-local value (no zone: read as UTC). */
export function parseTimeField(v: unknown): number | undefined {
  if (typeof v !== 'string' || v.trim() === '') return undefined;
  const t = v.trim();
  const ms = Date.parse(/(?:Z|[+-]\d\d:?\d\d)$/i.test(t) ? t : `${t}Z`);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The value a datetime-local field shows for `ms` (UTC). */
export function timeFieldValue(ms: number | undefined): string {
  return ms === undefined ? '' : new Date(ms).toISOString().slice(0, 16);
}

export function seconds(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export function errorText(e: unknown): string {
  if (e === undefined || e === null) return '';
  return typeof e === 'string' ? e : JSON.stringify(e);
}
