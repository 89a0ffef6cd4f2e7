import { InvalidArgumentError } from 'commander';

const DURATION = /^(\d{1,9})(ms|s|m|h|d)$/;
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * `--since`: an ISO 8601 time with an offset (`2026-11-30T06:00:00Z`) or a duration back from now
 * (`90s`, `15m`, `2h`, `7d`); returns epoch ms. A time without an offset is refused: its zone would
 * be a guess.
 */
export function parseSince(value: string, nowMs: number): number {
  const d = DURATION.exec(value.trim());
  if (d) return nowMs - Number(d[1]) * UNIT_MS[d[2] as keyof typeof UNIT_MS];
  if (ISO_WITH_OFFSET.test(value.trim())) {
    const ms = Date.parse(value);
    if (Number.isFinite(ms)) return ms;
  }
  throw new InvalidArgumentError('expected an ISO 8601 time with offset (2026-11-30T06:00:00Z) or a duration (30s, 15m, 2h, 7d)');
}

/** A whole number in [min, max], for options like `--limit`. */
export function intIn(min: number, max: number): (value: string) => number {
  return (value) => {
    if (!/^\d{1,16}$/.test(value.trim())) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return n;
  };
}
