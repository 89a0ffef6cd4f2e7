export type Role = 'ingress' | 'dispatcher' | 'fanout';

export interface RelayEnvInput {
  redisUrl: string;
  prefix: string;
  cbotUrl: string;
  cbotKey: string;
  apiKey: string;
  port: number;
  webhookUser: string;
  webhookPass: string;
  subscriptionsFile: string;
}

/** The dispatchers' CBOT_TIMEOUT_MS: no send waits longer than this for CBOT's answer. */
export const CBOT_TIMEOUT_MS = 5_000;

/**
 * The environment of one relay process. Everything is a documented variable (README); only timings
 * are shortened, never semantics:
 * - DISPATCH_BACKOFF_BASE_MS=100 / _MAX_MS=2000: retries every ≤ 2 s instead of ≤ 60 s, so a scenario
 *   drains in seconds once CBOT is back.
 * - DISPATCH_MAX_ATTEMPTS=200: with those backoffs a 2-minute outage costs a recipient's head message about
 *   120 s / ~1.5 s mean ≈ 80 failed attempts; 200 rides it out with margin (the default 10 would end
 *   the message `failed` after ~10 s — right for production timings, wrong for shortened ones).
 * - CBOT_TIMEOUT_MS=5000: a recipient's lease is CBOT_TIMEOUT_MS + 10 s, so a killed dispatcher's
 *   recipients are handed back within ~15 s instead of ~20 s.
 * - CBOT_RATE_LIMIT=1000: far above the load, so throttling only comes from the simulated 429s.
 * - PUSH_TIMEOUT_MS=2000: a hanging HTTP subscriber costs 2 s per attempt, not 10 s.
 * Every process gets CBOT_BASE_URL: without it an ingress would start its own simulator on 9090.
 */
export function relayEnv(role: Role, i: RelayEnvInput): Record<string, string> {
  const common = {
    REDIS_URL: i.redisUrl,
    QUEUE_PREFIX: i.prefix,
    CBOT_BASE_URL: i.cbotUrl,
    CBOT_API_KEY: i.cbotKey,
    // Each process serves /healthz, /readyz, /metrics on a port of its own; several share this host.
    OPS_PORT: '0',
    // Longer than a CBOT call (5 s) plus the ingress's 10 s grace for open connections.
    SHUTDOWN_TIMEOUT_MS: '20000',
    // info: RelayProcess waits for the info line "cbot-relay started"; warnings are the evidence we keep.
    LOG_LEVEL: 'info',
  };
  switch (role) {
    case 'ingress':
      return {
        ...common,
        RELAY_ROLES: 'ingress',
        PORT: String(i.port),
        RELAY_API_KEYS: `faults:${i.apiKey}`,
        RELAY_ADMIN_KEYS: 'ops:faults-admin-key-0123',
        CBOT_WEBHOOK_USER: i.webhookUser,
        CBOT_WEBHOOK_PASS: i.webhookPass,
      };
    case 'dispatcher':
      return {
        ...common,
        RELAY_ROLES: 'dispatcher',
        CBOT_RATE_LIMIT: '1000',
        CBOT_TIMEOUT_MS: String(CBOT_TIMEOUT_MS),
        DISPATCH_MAX_ATTEMPTS: '200',
        DISPATCH_BACKOFF_BASE_MS: '100',
        DISPATCH_BACKOFF_MAX_MS: '2000',
      };
    case 'fanout':
      return {
        ...common,
        RELAY_ROLES: 'fanout',
        SUBSCRIPTIONS_FILE: i.subscriptionsFile,
        PUSH_TIMEOUT_MS: '2000',
        PUSH_CONCURRENCY: '16',
      };
  }
}
