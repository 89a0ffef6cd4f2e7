import { normalizeRecipient } from '@cbot-relay/messages';
import { RELAY_ID_PATTERN } from '../relay-id.js';

export type SearchQuery =
  | { kind: 'none' }
  | { kind: 'id'; id: string }
  | { kind: 'phone'; to: string }
  /** Not an id nor a phone number: looked up as a CBOT message id (wamid). */
  | { kind: 'wamid'; wamid: string };

/**
 * What the console's search box holds. A phone number may be written any way a person writes one
 * (`+49 (151) 234-567`): spaces, dashes, dots and parentheses go for the search only, then
 * normalizeRecipient as for a send. Relay ids have their own shape; anything else is tried as a
 * wamid (CBOT's ids: `wamid.…`, or a simulator's).
 */
export function parseSearch(raw: string | undefined): SearchQuery {
  const q = (raw ?? '').trim();
  if (q === '') return { kind: 'none' };
  if (RELAY_ID_PATTERN.test(q)) return { kind: 'id', id: q };
  const compact = q.replace(/[\s().-]/g, '');
  if (/^\+?\d{5,20}$/.test(compact)) return { kind: 'phone', to: normalizeRecipient(compact) };
  return { kind: 'wamid', wamid: q };
}
