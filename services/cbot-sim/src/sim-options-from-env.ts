import { z } from 'zod';
import type { CbotSimOptions } from './cbot-sim.js';
import { ErrorMix, type SimKnobs } from './knobs.js';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const rate = z.coerce.number().min(0).max(1);
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const errorMix = z
  .string()
  .regex(/^\s*\d{3}\s*:\s*\d+(\.\d+)?\s*(,\s*\d{3}\s*:\s*\d+(\.\d+)?\s*)*$/, 'expected e.g. "500:1,429:1"')
  .transform((s) => Object.fromEntries(s.split(',').map((p) => p.split(':').map((x) => x.trim())).map(([k, v]) => [k, Number(v)])))
  .pipe(ErrorMix);
const delayMs = z.number().int().min(0).max(3_600_000);
const delays = z
  .string()
  .transform((s) => s.split(',').map((x) => Number(x.trim())))
  .pipe(z.tuple([delayMs, delayMs, delayMs]));

/** Parses one variable, throwing an Error that names it when the value is invalid. */
function read<T>(env: NodeJS.ProcessEnv, name: string, schema: z.ZodType<T>): T | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`${name}: invalid value ${JSON.stringify(raw)} (${parsed.error.issues.map((i) => i.message).join('; ')})`);
  }
  return parsed.data;
}

/** Simulator options from SIM_* variables (see the README for the list). */
export function simOptionsFromEnv(env: NodeJS.ProcessEnv): CbotSimOptions {
  const knobs: Partial<SimKnobs> = {};
  const set = <K extends keyof SimKnobs>(key: K, value: SimKnobs[K] | undefined): void => {
    if (value !== undefined) knobs[key] = value;
  };
  set('latencyMs', read(env, 'SIM_LATENCY_MS', int(0, 3_600_000)));
  set('errorRate', read(env, 'SIM_ERROR_RATE', rate));
  set('errorMix', read(env, 'SIM_ERROR_MIX', errorMix));
  set('retryAfterSeconds', read(env, 'SIM_RETRY_AFTER_S', int(0, 86_400)));
  set('dropAnswerRate', read(env, 'SIM_DROP_ANSWER_RATE', rate));
  set('statusCallbacks', read(env, 'SIM_STATUS_CALLBACKS', bool));
  set('statusDelaysMs', read(env, 'SIM_STATUS_DELAYS_MS', delays));

  const opts: CbotSimOptions = {
    port: read(env, 'SIM_PORT', int(0, 65_535)) ?? 9090,
    apiKey: read(env, 'SIM_API_KEY', z.string()) ?? 'sim-key',
    knobs,
  };
  const maxRecorded = read(env, 'SIM_MAX_RECORDED', int(1, 10_000_000));
  if (maxRecorded !== undefined) opts.maxRecorded = maxRecorded;
  const api = read(env, 'SIM_API', z.enum(['onprem', 'cloud']));
  if (api !== undefined) opts.api = api;
  const host = read(env, 'SIM_HOST', z.string());
  if (host !== undefined) opts.host = host;
  const keyHeader = read(env, 'SIM_API_KEY_HEADER', z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'not a header name'));
  if (keyHeader !== undefined) opts.apiKeyHeader = keyHeader;
  const appSecret = read(env, 'SIM_APP_SECRET', z.string());
  if (appSecret !== undefined) opts.appSecret = appSecret;

  const webhookUrl = read(env, 'SIM_WEBHOOK_URL', z.url({ protocol: /^https?$/ }));
  const user = read(env, 'SIM_WEBHOOK_USER', z.string());
  const pass = read(env, 'SIM_WEBHOOK_PASS', z.string());
  if ((user === undefined) !== (pass === undefined)) {
    throw new Error(`${user === undefined ? 'SIM_WEBHOOK_USER' : 'SIM_WEBHOOK_PASS'}: must be set together with ${user === undefined ? 'SIM_WEBHOOK_PASS' : 'SIM_WEBHOOK_USER'}`);
  }
  if (webhookUrl !== undefined) {
    opts.webhook = { url: webhookUrl };
    if (user !== undefined && pass !== undefined) {
      opts.webhook.headers = { Authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` };
    }
  } else if (user !== undefined) {
    throw new Error('SIM_WEBHOOK_USER: set without SIM_WEBHOOK_URL');
  }
  return opts;
}
