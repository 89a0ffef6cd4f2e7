import { describe, expect, it } from 'vitest';
import { simOptionsFromEnv } from './index.js';

describe('simOptionsFromEnv', () => {
  it('has defaults', () => {
    expect(simOptionsFromEnv({})).toEqual({ port: 9090, apiKey: 'sim-key', knobs: {} });
  });

  it('reads every variable', () => {
    const opts = simOptionsFromEnv({
      SIM_PORT: '0', SIM_HOST: '0.0.0.0', SIM_API_KEY: 'k', SIM_API_KEY_HEADER: 'D360-API-KEY',
      SIM_LATENCY_MS: '25', SIM_ERROR_RATE: '0.1', SIM_ERROR_MIX: '500:1, 429:2', SIM_RETRY_AFTER_S: '3',
      SIM_DROP_ANSWER_RATE: '0.01', SIM_STATUS_CALLBACKS: 'false', SIM_STATUS_DELAYS_MS: '1,2,3',
      SIM_WEBHOOK_URL: 'http://relay:8080/webhooks/cbot', SIM_WEBHOOK_USER: 'cbot-relay', SIM_WEBHOOK_PASS: 's3cr3t-pass',
      SIM_APP_SECRET: 'test_app_secret', SIM_MAX_RECORDED: '500',
    });
    expect(opts).toEqual({
      port: 0, host: '0.0.0.0', maxRecorded: 500, apiKey: 'k', apiKeyHeader: 'D360-API-KEY', appSecret: 'test_app_secret',
      knobs: {
        latencyMs: 25, errorRate: 0.1, errorMix: { '500': 1, '429': 2 }, retryAfterSeconds: 3,
        dropAnswerRate: 0.01, statusCallbacks: false, statusDelaysMs: [1, 2, 3],
      },
      webhook: {
        url: 'http://relay:8080/webhooks/cbot',
        headers: { Authorization: 'Basic Y2JvdC1yZWxheTpzM2NyM3QtcGFzcw==' },
      },
    });
  });

  it.each([
    ['SIM_PORT', 'abc'],
    ['SIM_PORT', '70000'],
    ['SIM_MAX_RECORDED', '0'],
    ['SIM_LATENCY_MS', '-1'],
    ['SIM_ERROR_RATE', '2'],
    ['SIM_ERROR_MIX', '500'],
    ['SIM_ERROR_MIX', '404:1'],
    ['SIM_STATUS_CALLBACKS', 'nope'],
    ['SIM_STATUS_DELAYS_MS', '1,2'],
    ['SIM_WEBHOOK_URL', 'not a url'],
    ['SIM_API_KEY_HEADER', 'bad header'],
    ['SIM_WEBHOOK_PASS', undefined],
  ])('throws an error naming %s for %j', (name, value) => {
    const env = name === 'SIM_WEBHOOK_PASS' ? { SIM_WEBHOOK_URL: 'http://x/', SIM_WEBHOOK_USER: 'u' } : { [name]: value };
    expect(() => simOptionsFromEnv(env)).toThrow(name);
  });
});
