/**
 * FNV-1a over the recipient: stable across processes and versions, so a recipient always lands on the
 * same lane. Changing DISPATCH_LANES re-maps recipients: drain the outbound queues first.
 */
export function laneFor(recipient: string, lanes: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < recipient.length; i++) {
    h ^= recipient.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % lanes;
}
