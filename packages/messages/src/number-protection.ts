/**
 * WhatsApp error codes that protect the sending number (contract: "Error codes that protect the
 * number"), whichever way they arrive: as a send's error answer or in a `failed` status callback's
 * `errors[].code`. Both APIs use the same codes; 1015 is On-Premises' own throughput code.
 *
 * - `pair`: too many messages to one recipient; hold only that recipient, with growing waits.
 * - `throughput`: the number sends too fast; pause the channel (Retry-After, else growing 1 s → 60 s).
 * - `quality`: the number is restricted for its quality (131048); pause the channel for QUALITY_PAUSE_S, doubling.
 * - `stop`: the account is restricted or locked (368, 131031); stop the channel until an operator resumes it.
 */
export type NumberProtection = 'pair' | 'throughput' | 'quality' | 'stop';

export const NUMBER_PROTECTION: ReadonlyMap<number, NumberProtection> = new Map<number, NumberProtection>([
  [131056, 'pair'],
  [130429, 'throughput'],
  [80007, 'throughput'],
  [4, 'throughput'],
  [1015, 'throughput'],
  [131048, 'quality'],
  [368, 'stop'],
  [131031, 'stop'],
]);

/** Which matters most when one answer carries several codes: a stop over a quality pause over throughput over a pair hold. */
const WEIGHT: Record<NumberProtection, number> = { stop: 4, quality: 3, throughput: 2, pair: 1 };

/** The strongest protection the codes call for, or undefined when none is one of NUMBER_PROTECTION's. */
export function numberProtection(codes: readonly number[]): NumberProtection | undefined {
  let best: NumberProtection | undefined;
  for (const code of codes) {
    const p = NUMBER_PROTECTION.get(code);
    if (p !== undefined && (best === undefined || WEIGHT[p] > WEIGHT[best])) best = p;
  }
  return best;
}
