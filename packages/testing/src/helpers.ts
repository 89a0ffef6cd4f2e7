import { randomBytes } from 'node:crypto';

/** A queue prefix no other test uses, so tests can share one Redis. */
export function uniquePrefix(name = 't'): string {
  return `${name}-${randomBytes(4).toString('hex')}`;
}

/** Polls until `check` returns a value other than undefined/false, or throws after `timeoutMs`. */
export async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  { timeoutMs = 20_000, intervalMs = 20, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${String(lastErr)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
