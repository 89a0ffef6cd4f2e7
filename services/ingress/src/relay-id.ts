import { randomBytes } from 'node:crypto';

/** `msg_` + 9 base-36 chars of time + 16 hex of randomness: unique, roughly time-ordered, no `:`. */
export function newRelayId(nowMs: number): string {
  return `msg_${nowMs.toString(36).padStart(9, '0')}${randomBytes(8).toString('hex')}`;
}

export const RELAY_ID_PATTERN = /^msg_[0-9a-z]{9}[0-9a-f]{16}$/;
