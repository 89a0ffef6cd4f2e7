/** A channel's number quality as GET /v1/channels shows it. */
export type NumberQuality = 'GREEN' | 'YELLOW' | 'RED' | 'UNKNOWN';

const RATING: Record<string, NumberQuality> = { GREEN: 'GREEN', YELLOW: 'YELLOW', RED: 'RED', HIGH: 'GREEN', MEDIUM: 'YELLOW', LOW: 'RED' };
// `event` of a phone_number_quality_update: FLAGGED is a low (red) rating, UNFLAGGED its recovery; a
// messaging-limit UPGRADE needs a good rating, a DOWNGRADE follows a low one.
const EVENT: Record<string, NumberQuality> = { FLAGGED: 'RED', UNFLAGGED: 'GREEN', UPGRADE: 'GREEN', DOWNGRADE: 'RED' };

/**
 * The number quality a Cloud callback reports (`changes[].field` `phone_number_quality_update`): the
 * value's own rating (`quality_rating` / `quality`) when it has one, else read from its `event`
 * (`current_limit` alone says nothing of the quality). The last such change in the payload wins;
 * undefined when the payload reports none.
 */
export function qualityFromCallback(payload: unknown): NumberQuality | undefined {
  if (!isObject(payload) || !Array.isArray(payload['entry'])) return undefined;
  let found: NumberQuality | undefined;
  for (const entry of payload['entry']) {
    const changes = isObject(entry) ? entry['changes'] : undefined;
    if (!Array.isArray(changes)) continue;
    for (const change of changes) {
      if (!isObject(change) || change['field'] !== 'phone_number_quality_update' || !isObject(change['value'])) continue;
      const v = change['value'];
      const rating = str(v['quality_rating']) ?? str(v['quality']);
      const q = (rating === undefined ? undefined : RATING[rating.toUpperCase()]) ?? EVENT[(str(v['event']) ?? '').toUpperCase()];
      if (q !== undefined) found = q;
    }
  }
  return found;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
