import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, requireCbot } from './index.js';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig({});
    expect(c.port).toBe(8080);
    expect(c.host).toBe('0.0.0.0');
    expect(c.ingress.backlogMax).toBe(1_000_000);
    expect(c.redis).toEqual({ url: undefined, cluster: false, answerTimeoutMs: 2000, waitReplicas: 0, waitTimeoutMs: 500 });
    expect(c.webhook.maxBodyBytes).toBe(3 * 1024 * 1024);
    expect(c.apiKeys).toEqual([]);
    expect(c.cbot.apiKeyHeader).toBe('Authorization');
    expect(c.cbot.rateLimitPerSecond).toBe(80);
    expect(c.roles).toEqual(['ingress', 'dispatcher', 'fanout']);
    expect(c.queuePrefix).toBe('cbot-relay');
    expect(c.ingress.maxBodyBytes).toBe(65536);
    expect(c.ingress).toMatchObject({ maxConnections: 1024, headersTimeoutMs: 5000, requestTimeoutMs: 15000, bodyIdleTimeoutMs: 5000 });
    expect(c.ingress.bodyBufferBytes).toBe(24 * 1024 * 1024);
    expect(c.opsPort).toBe(9464);
  });

  it('keeps messages for MESSAGE_RETENTION_DAYS (30), or RECORD_TTL_S seconds when that is set', () => {
    expect(loadConfig({}).recordTtlS).toBe(30 * 86_400);
    expect(loadConfig({ MESSAGE_RETENTION_DAYS: '7' }).recordTtlS).toBe(7 * 86_400);
    expect(loadConfig({ MESSAGE_RETENTION_DAYS: '7', RECORD_TTL_S: '120' }).recordTtlS).toBe(120);
    expect(() => loadConfig({ MESSAGE_RETENTION_DAYS: '0' })).toThrow(/MESSAGE_RETENTION_DAYS/);
  });

  it('reads LOG_FORMAT: auto unless json or pretty is forced', () => {
    expect(loadConfig({}).logFormat).toBe('auto');
    expect(loadConfig({ LOG_FORMAT: '' }).logFormat).toBe('auto');
    expect(loadConfig({ LOG_FORMAT: 'json' }).logFormat).toBe('json');
    expect(loadConfig({ LOG_FORMAT: ' Pretty ' }).logFormat).toBe('pretty');
  });

  it('reads OPS_PORT as a port, 0 (any free port) or off', () => {
    expect(loadConfig({ OPS_PORT: '0' }).opsPort).toBe(0);
    expect(loadConfig({ OPS_PORT: '9500' }).opsPort).toBe(9500);
    expect(loadConfig({ OPS_PORT: 'off' }).opsPort).toBeUndefined();
    expect(() => loadConfig({ OPS_PORT: '70000' })).toThrow(/^OPS_PORT: /);
  });

  it('wants the request timeout at least as long as the headers timeout', () => {
    expect(() => loadConfig({ INGRESS_HEADERS_TIMEOUT_MS: '6000', INGRESS_REQUEST_TIMEOUT_MS: '5000' })).toThrow(/^INGRESS_REQUEST_TIMEOUT_MS: /);
  });

  it('reads the callback limits and subscriber retention, 0 turning a bound off', () => {
    expect(loadConfig({}).fanout).toMatchObject({
      callbackMaxItems: 1_000,
      contactMaxBytes: 4_096,
      subscriberMaxWaiting: 1_000_000,
      subscriberMaxAgeS: 604_800,
    });
    const c = loadConfig({ CALLBACK_MAX_ITEMS: '50', EVENT_CONTACT_MAX_BYTES: '0', SUBSCRIBER_MAX_WAITING: '0', SUBSCRIBER_MAX_AGE_S: '3600' });
    expect(c.fanout).toMatchObject({ callbackMaxItems: 50, contactMaxBytes: 0, subscriberMaxWaiting: 0, subscriberMaxAgeS: 3600 });
    expect(() => loadConfig({ CALLBACK_MAX_ITEMS: '0' })).toThrow(/^CALLBACK_MAX_ITEMS: expected a whole number from 1/);
    expect(() => loadConfig({ SUBSCRIBER_MAX_WAITING: '-1' })).toThrow(/^SUBSCRIBER_MAX_WAITING: /);
    expect(loadConfig({ API_KEY_RATE_LIMIT: '0.5' }).ingress.perKeyRatePerSecond).toBe(0.5);
  });

  it('parses name:key pairs and roles', () => {
    const c = loadConfig({ RELAY_API_KEYS: 'crm:abcdefgh123, billing:zyxwvuts987', RELAY_ROLES: 'dispatcher' });
    expect(c.apiKeys).toEqual([
      { name: 'crm', key: 'abcdefgh123' },
      { name: 'billing', key: 'zyxwvuts987' },
    ]);
    expect(c.roles).toEqual(['dispatcher']);
  });

  it('normalises the CBOT base URL to end with a slash', () => {
    expect(loadConfig({ CBOT_BASE_URL: 'https://cbot.example/api' }).cbot.baseUrl).toBe('https://cbot.example/api/');
    expect(loadConfig({ PUBLIC_WEBHOOK_URL: 'https://relay.example/webhooks/cbot' }).webhook.publicUrl).toBe(
      'https://relay.example/webhooks/cbot',
    );
  });

  it.each([
    ['PORT', 'eighty', /^PORT: /],
    ['RELAY_ROLES', 'ingress,mailer', /^RELAY_ROLES: unknown role "mailer"/],
    ['REDIS_CLUSTER', 'maybe', /^REDIS_CLUSTER: /],
    ['CBOT_RATE_LIMIT', '-1', /^CBOT_RATE_LIMIT: /],
    ['CBOT_BASE_URL', 'ftp://x', /^CBOT_BASE_URL: /],
    ['LOG_LEVEL', 'loud', /^LOG_LEVEL: /],
    ['LOG_FORMAT', 'xml', /^LOG_FORMAT: expected json, pretty or auto/],
    ['HOST', 'my host', /^HOST: must be an IP address or host name/],
    ['OUTBOUND_PARTITIONS', '0', /^OUTBOUND_PARTITIONS: expected a whole number from 1 to 64/],
    ['OUTBOUND_PARTITIONS', '65', /^OUTBOUND_PARTITIONS: /],
  ])('names the bad variable %s', (name, value, pattern) => {
    expect(() => loadConfig({ [name]: value })).toThrow(pattern);
  });

  it('never echoes a secret in the message', () => {
    try {
      loadConfig({ RELAY_API_KEYS: 'crm:short' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toBe('RELAY_API_KEYS: invalid value');
    }
  });

  it('hash-tags the queue prefix for Redis Cluster', () => {
    expect(loadConfig({ REDIS_CLUSTER: '1' }).queuePrefix).toBe('{cbot-relay}');
    expect(loadConfig({ REDIS_CLUSTER: '1', QUEUE_PREFIX: '{relay}' }).queuePrefix).toBe('{relay}');
    expect(() => loadConfig({ REDIS_CLUSTER: '1', QUEUE_PREFIX: 'relay' })).toThrow(/^QUEUE_PREFIX: with REDIS_CLUSTER on it must contain a hash tag/);
  });

  it('leaves the outbound partition count to Redis unless OUTBOUND_PARTITIONS is set', () => {
    expect(loadConfig({}).redis.partitions).toBeUndefined();
    expect(loadConfig({ OUTBOUND_PARTITIONS: '6' }).redis.partitions).toBe(6);
  });

  it('parses booleans explicitly', () => {
    expect(loadConfig({ REDIS_CLUSTER: 'false' }).redis.cluster).toBe(false);
    expect(loadConfig({ REDIS_CLUSTER: '1' }).redis.cluster).toBe(true);
    expect(loadConfig({}).queueUiWrite).toBe(false);
    expect(loadConfig({ QUEUE_UI_WRITE: '1' }).queueUiWrite).toBe(true);
    expect(() => loadConfig({ QUEUE_UI_WRITE: 'sure' })).toThrow(/^QUEUE_UI_WRITE: /);
  });

  it('wants Basic credentials in pairs', () => {
    expect(() => loadConfig({ CBOT_WEBHOOK_USER: 'u' })).toThrow(/CBOT_WEBHOOK_USER and CBOT_WEBHOOK_PASS/);
  });

  it('requires CBOT settings only when asked', () => {
    const c = loadConfig({});
    expect(() => requireCbot(c)).toThrow(/^CBOT_BASE_URL: /);
    expect(requireCbot(loadConfig({ CBOT_BASE_URL: 'http://x/', CBOT_API_KEY: 'k' }))).toEqual({
      baseUrl: 'http://x/',
      apiKey: 'k',
    });
  });
});
