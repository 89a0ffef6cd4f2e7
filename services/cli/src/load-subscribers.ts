import type { RelayConfig } from '@cbot-relay/config';
import { loadSubscriptions } from '@cbot-relay/fanout';
import type { Subscriber } from '@cbot-relay/fanout';
import { usageError } from './cli-error.js';

/**
 * The relay's subscribers, read as fanout reads them (today SUBSCRIPTIONS_FILE). The one place the
 * CLI asks for them: when subscribers move into Redis, this call changes and nothing else.
 */
export function loadSubscribers(config: RelayConfig): readonly Subscriber[] {
  try {
    return loadSubscriptions(config.subscriptionsFile).subscribers;
  } catch (err) {
    throw usageError(err instanceof Error ? err.message : String(err));
  }
}
