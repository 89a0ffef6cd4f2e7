import { z } from 'zod';
import { httpUrl } from './env-schema.js';

/** The id of the channel the `CBOT_*` variables form, and of the one whose Redis keys are today's. */
export const DEFAULT_CHANNEL = 'default';

/** Ids go into Redis key names, URLs and metric labels: short, and nothing that needs escaping. */
export const CHANNEL_ID = /^[a-z0-9][a-z0-9_-]{0,31}$/;

export type ChannelApi = 'onprem' | 'cloud';

/** One CBOT number with its own API, credentials and rate limit. */
export interface ChannelConfig {
  id: string;
  api: ChannelApi;
  /** With a trailing slash, so `v1/messages` / `messages` append to it. Undefined only for `default` from CBOT_*. */
  baseUrl: string | undefined;
  apiKey: string | undefined;
  apiKeyHeader: string;
  rateLimitPerSecond: number;
  webhook: {
    basic: { user: string; pass: string } | undefined;
    appSecret: string | undefined;
    publicUrl: string | undefined;
  };
  /** Sends without a `channel` go here. */
  isDefault: boolean;
  /**
   * Cloud media downloads: `cdn` fetches the URL CBOT's look-up answers as given; `base` replaces its
   * origin with the base URL's (a CBOT that proxies the media host).
   */
  mediaHost: 'cdn' | 'base';
}

const url = (base: boolean) =>
  z.string().transform((v, ctx) => {
    const out = httpUrl(v, base);
    if (out === undefined) {
      ctx.addIssue({ code: 'custom', message: 'expected an http(s) URL' });
      return z.NEVER;
    }
    return out;
  });

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'expected the name of an environment variable');
const secret = z.string().min(1, 'must not be empty');

const ChannelEntry = z.strictObject({
  id: z.string().regex(CHANNEL_ID, 'expected 1-32 of a-z 0-9 _ - (starting with a letter or digit)'),
  api: z.enum(['onprem', 'cloud']).default('onprem'),
  baseUrl: url(true),
  apiKey: secret.optional(),
  apiKeyEnv: envName.optional(),
  apiKeyHeader: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'expected an HTTP header name').default('Authorization'),
  webhookUser: secret.optional(),
  webhookPass: secret.optional(),
  webhookPassEnv: envName.optional(),
  appSecret: secret.optional(),
  appSecretEnv: envName.optional(),
  rateLimit: z.number().min(0.01, 'expected messages per second ≥ 0.01').default(80),
  publicWebhookUrl: url(false).optional(),
  default: z.boolean().default(false),
  mediaHost: z.enum(['cdn', 'base']).default('cdn'),
});

const ChannelsFile = z.strictObject({ channels: z.array(z.unknown()).min(1, 'list at least one channel') });

/**
 * `CHANNELS_FILE`'s content (already read) to channels. Secrets come inline or from the variable an
 * `…Env` field names. Every problem is one message naming the channel and the field; values of
 * secret fields are never echoed.
 */
export function parseChannels(text: string, env: Record<string, string | undefined>): ChannelConfig[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`not valid JSON (${(err as Error).message})`);
  }
  const file = ChannelsFile.safeParse(json);
  if (!file.success) throw new Error(issueText('', file.error.issues[0]));
  const out: ChannelConfig[] = [];
  file.data.channels.forEach((raw, i) => {
    const rawId = typeof raw === 'object' && raw !== null ? (raw as { id?: unknown }).id : undefined;
    const label = typeof rawId === 'string' && rawId !== '' ? `channel "${rawId}"` : `channels[${i}]`;
    const parsed = ChannelEntry.safeParse(raw);
    if (!parsed.success) throw new Error(`${label}: ${issueText('', parsed.error.issues[0])}`);
    const c = parsed.data;
    if (out.some((o) => o.id === c.id)) throw new Error(`${label}: id appears twice`);
    const apiKey = pick(label, 'apiKey', c.apiKey, c.apiKeyEnv, env, true);
    const pass = pick(label, 'webhookPass', c.webhookPass, c.webhookPassEnv, env, false);
    const appSecret = pick(label, 'appSecret', c.appSecret, c.appSecretEnv, env, false);
    if ((c.webhookUser === undefined) !== (pass === undefined)) {
      throw new Error(`${label}: webhookUser and webhookPass (or webhookPassEnv): set both or neither`);
    }
    out.push({
      id: c.id,
      api: c.api,
      baseUrl: c.baseUrl,
      apiKey,
      apiKeyHeader: c.apiKeyHeader,
      rateLimitPerSecond: c.rateLimit,
      webhook: {
        basic: c.webhookUser !== undefined && pass !== undefined ? { user: c.webhookUser, pass } : undefined,
        appSecret,
        publicUrl: c.publicWebhookUrl,
      },
      isDefault: c.default,
      mediaHost: c.mediaHost,
    });
  });
  const marked = out.filter((c) => c.isDefault);
  if (marked.length > 1) throw new Error(`channels "${marked[0]!.id}" and "${marked[1]!.id}" are both marked default`);
  if (marked.length === 0) {
    // The only channel, or the one called `default`, sends when a request names none.
    const fallback = out.length === 1 ? out[0] : out.find((c) => c.id === DEFAULT_CHANNEL);
    if (fallback === undefined) throw new Error('several channels and none marked "default": true');
    fallback.isDefault = true;
  }
  return out;
}

function pick(label: string, field: string, inline: string | undefined, envRef: string | undefined, env: Record<string, string | undefined>, required: boolean): string | undefined {
  if (inline !== undefined && envRef !== undefined) throw new Error(`${label}: ${field} and ${field}Env: set one, not both`);
  if (envRef !== undefined) {
    const v = env[envRef];
    if (v === undefined || v.trim() === '') throw new Error(`${label}: ${field}Env names ${envRef}, which is not set`);
    return v.trim();
  }
  if (inline === undefined && required) throw new Error(`${label}: ${field} or ${field}Env is required`);
  return inline;
}

function issueText(prefix: string, issue: z.core.$ZodIssue | undefined): string {
  if (issue === undefined) return 'invalid';
  const path = issue.path.map(String).join('.');
  const where = [prefix, path].filter((s) => s !== '').join('.');
  // Secrets' values never appear: zod's messages name types and formats, not values, except ours above.
  if (issue.code === 'unrecognized_keys') return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  return where === '' ? issue.message : `${where}: ${issue.message}`;
}
