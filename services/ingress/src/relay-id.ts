import { randomFillSync } from 'node:crypto';

// Randomness drawn 4 KiB at a time: one call to the CSPRNG per 512 ids instead of one per id.
const pool = Buffer.alloc(4096);
let used = pool.length;

function random8Hex(): string {
  if (used === pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  used += 8;
  return pool.toString('hex', used - 8, used);
}

/** `msg_` + 9 base-36 chars of time + 16 hex of randomness: unique, roughly time-ordered, no `:`. */
export function newRelayId(nowMs: number): string {
  return `msg_${nowMs.toString(36).padStart(9, '0')}${random8Hex()}`;
}

export const RELAY_ID_PATTERN = /^msg_[0-9a-z]{9}[0-9a-f]{16}$/;
