import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { channelsOf, loadConfig, parseChannels } from './index.js';

const two = {
  channels: [
    { id: 'sales', api: 'onprem', baseUrl: 'https://cbot-a.example', apiKeyEnv: 'SALES_KEY', apiKeyHeader: 'D360-API-KEY', webhookUser: 'cbot', webhookPassEnv: 'SALES_PASS', rateLimit: 80, publicWebhookUrl: 'https://relay.example/webhooks/cbot/sales', default: true },
    { id: 'support-tr', api: 'cloud', baseUrl: 'https://cbot-b.example/v18.0/123/', apiKey: 'inline-key', appSecretEnv: 'TR_SECRET', rateLimit: 250 },
  ],
};
const env = { SALES_KEY: 'sales-key-1', SALES_PASS: 'hook-pass', TR_SECRET: 'tr-secret' };

function file(content: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'channels-'));
  const path = join(dir, 'channels.json');
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

describe('parseChannels', () => {
  it('reads both APIs, secrets inline or by reference, and the default', () => {
    const [sales, tr] = parseChannels(JSON.stringify(two), env);
    expect(sales).toEqual({
      id: 'sales', api: 'onprem', baseUrl: 'https://cbot-a.example/', apiKey: 'sales-key-1', apiKeyHeader: 'D360-API-KEY', rateLimitPerSecond: 80,
      webhook: { basic: { user: 'cbot', pass: 'hook-pass' }, appSecret: undefined, publicUrl: 'https://relay.example/webhooks/cbot/sales' },
      isDefault: true, mediaHost: 'cdn',
    });
    expect(tr).toMatchObject({ id: 'support-tr', api: 'cloud', baseUrl: 'https://cbot-b.example/v18.0/123/', apiKey: 'inline-key', apiKeyHeader: 'Authorization', rateLimitPerSecond: 250, isDefault: false });
    expect(tr!.webhook).toEqual({ basic: undefined, appSecret: 'tr-secret', publicUrl: undefined });
  });

  it('takes mediaHost "base" and refuses other values', () => {
    expect(parseChannels(JSON.stringify({ channels: [{ ...two.channels[1], mediaHost: 'base' }] }), env)[0]!.mediaHost).toBe('base');
    expect(() => parseChannels(JSON.stringify({ channels: [{ ...two.channels[1], mediaHost: 'elsewhere' }] }), env)).toThrow(/mediaHost/);
  });

  it('makes the only channel, or the one called default, the default', () => {
    expect(parseChannels(JSON.stringify({ channels: [two.channels[1]] }), env)[0]!.isDefault).toBe(true);
    const named = parseChannels(JSON.stringify({ channels: [{ ...two.channels[1], id: 'default' }, { ...two.channels[1], id: 'x' }] }), env);
    expect(named.map((c) => c.isDefault)).toEqual([true, false]);
  });

  it.each([
    ['{', /^not valid JSON/],
    [{}, /^channels: /],
    [{ channels: [] }, /at least one channel/],
    [{ channels: [{ ...two.channels[1], id: 'Bad Id' }] }, /^channel "Bad Id": id: expected 1-32/],
    [{ channels: [{ ...two.channels[1], api: 'graph' }] }, /^channel "support-tr": api: /],
    [{ channels: [{ ...two.channels[1], baseUrl: 'ftp://x' }] }, /^channel "support-tr": baseUrl: expected an http\(s\) URL/],
    [{ channels: [{ ...two.channels[1], rateLimit: '80' }] }, /^channel "support-tr": rateLimit: /],
    [{ channels: [{ ...two.channels[1], apiKey: undefined }] }, /^channel "support-tr": apiKey or apiKeyEnv is required/],
    [{ channels: [{ ...two.channels[1], apiKeyEnv: 'MISSING_VAR' }] }, /^channel "support-tr": apiKey and apiKeyEnv: set one/],
    [{ channels: [{ ...two.channels[0], apiKeyEnv: 'MISSING_VAR' }] }, /^channel "sales": apiKeyEnv names MISSING_VAR, which is not set/],
    [{ channels: [{ ...two.channels[0], webhookPassEnv: undefined }] }, /^channel "sales": webhookUser and webhookPass/],
    [{ channels: [{ ...two.channels[1], apikey: 'typo' }] }, /^channel "support-tr": unknown field "apikey"/],
    [{ channels: [two.channels[1], two.channels[1]] }, /^channel "support-tr": id appears twice/],
    [{ channels: [two.channels[0], { ...two.channels[1], default: true }] }, /both marked default/],
    [{ channels: [{ ...two.channels[1], id: 'a' }, { ...two.channels[1], id: 'b' }] }, /none marked "default"/],
    [{ channels: ['x'] }, /^channels\[0\]: /],
  ])('refuses %j with one clear message', (content, message) => {
    expect(() => parseChannels(typeof content === 'string' ? content : JSON.stringify(content), env)).toThrow(message);
  });

  it('never echoes a secret in a message', () => {
    let text = '';
    try {
      parseChannels(JSON.stringify({ channels: [{ ...two.channels[1], apiKey: 42 }] }), env);
    } catch (err) {
      text = (err as Error).message;
    }
    expect(text).toMatch(/^channel "support-tr": apiKey: /);
    expect(text).not.toContain('42');
  });
});

describe('loadConfig with channels', () => {
  it('without CHANNELS_FILE forms the one channel default from CBOT_* (unchanged deployments)', () => {
    const c = loadConfig({ CBOT_BASE_URL: 'http://cbot.local', CBOT_API_KEY: 'k', CBOT_RATE_LIMIT: '20', CBOT_WEBHOOK_USER: 'u', CBOT_WEBHOOK_PASS: 'p', RELAY_API_KEYS: 'crm:abcdefgh:123' });
    expect(channelsOf(c)).toEqual([
      {
        id: 'default', api: 'onprem', baseUrl: 'http://cbot.local/', apiKey: 'k', apiKeyHeader: 'Authorization', rateLimitPerSecond: 20,
        webhook: { basic: { user: 'u', pass: 'p' }, appSecret: undefined, publicUrl: undefined }, isDefault: true, mediaHost: 'cdn',
      },
    ]);
    // A colon inside an existing key stays part of the key.
    expect(c.apiKeys).toEqual([{ name: 'crm', key: 'abcdefgh:123' }]);
  });

  it('reads CHANNELS_FILE and channel lists on RELAY_API_KEYS', () => {
    const c = loadConfig({ ...env, CHANNELS_FILE: file(two), RELAY_API_KEYS: 'crm:abcdefgh1:sales|support-tr,ops:abcdefgh2:sales,all:abcdefgh3' });
    expect(channelsOf(c).map((ch) => ch.id)).toEqual(['sales', 'support-tr']);
    expect(c.apiKeys).toEqual([
      { name: 'crm', key: 'abcdefgh1', channels: ['sales', 'support-tr'] },
      { name: 'ops', key: 'abcdefgh2', channels: ['sales'] },
      { name: 'all', key: 'abcdefgh3' },
    ]);
  });

  it('names the variable and the problem', () => {
    expect(() => loadConfig({ CHANNELS_FILE: '/nonexistent/channels.json' })).toThrow(/^CHANNELS_FILE: cannot read \/nonexistent\/channels.json \(ENOENT\)/);
    expect(() => loadConfig({ CHANNELS_FILE: file({ channels: [{ id: 'x' }] }) })).toThrow(/^CHANNELS_FILE: channel "x": baseUrl: /);
    expect(() => loadConfig({ ...env, CHANNELS_FILE: file(two), RELAY_API_KEYS: 'crm:abcdefgh1:sales|nope' })).toThrow(
      /^RELAY_API_KEYS: key "crm" lists channel "nope", which CHANNELS_FILE does not define/,
    );
  });
});
