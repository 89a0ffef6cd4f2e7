import { z } from 'zod';

/** `"true"`/`"1"` are true, `"false"`/`"0"`/empty are false; anything else is an error, never a silent guess. */
const bool = (fallback: boolean) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return fallback;
      const s = v.trim().toLowerCase();
      if (s === 'true' || s === '1' || s === 'yes') return true;
      if (s === 'false' || s === '0' || s === 'no') return false;
      ctx.addIssue({ code: 'custom', message: `expected true or false, got "${v}"` });
      return z.NEVER;
    });

const int = (fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `expected a whole number from ${min} to ${max}, got "${v}"` });
        return z.NEVER;
      }
      return n;
    });

const num = (fallback: number, min: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return fallback;
      const n = Number(v);
      if (!Number.isFinite(n) || n < min) {
        ctx.addIssue({ code: 'custom', message: `expected a number ≥ ${min}, got "${v}"` });
        return z.NEVER;
      }
      return n;
    });

/** A duration as seconds: `3600`, `90s`, `45m`, `48h` or `2d`; at least `min` seconds. */
const duration = (fallbackS: number, minS: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return fallbackS;
      const m = /^(\d{1,9})\s*(s|m|h|d)?$/.exec(v.trim().toLowerCase());
      const s = m ? Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'] : NaN;
      if (!(s >= minS)) {
        ctx.addIssue({ code: 'custom', message: `expected a duration of at least ${minS} s (e.g. 48h, 2d, 3600), got "${v}"` });
        return z.NEVER;
      }
      return s;
    });

/**
 * An http(s) URL as the relay keeps it, or undefined when `v` is not one; `base` URLs get a trailing
 * slash so relative paths (`v1/messages`) append to them.
 */
export function httpUrl(v: string, base: boolean): string | undefined {
  try {
    const u = new URL(v.trim());
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
    return base && !u.href.endsWith('/') ? `${u.href}/` : u.href;
  } catch {
    return undefined;
  }
}

const optionalUrl = (base: boolean) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return undefined;
      const url = httpUrl(v, base);
      if (url === undefined) {
        ctx.addIssue({ code: 'custom', message: 'expected an http(s) URL' });
        return z.NEVER;
      }
      return url;
    });

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));

export interface NamedKey {
  name: string;
  key: string;
  /** The channels this key may send on (`name:key:a|b`); undefined: every channel. */
  channels?: string[];
}

/** `name:key,name2:key2`. Names are what logs and records show; keys never are. */
const namedKeys = z
  .string()
  .optional()
  .transform((v, ctx): NamedKey[] => {
    if (v === undefined || v.trim() === '') return [];
    const out: NamedKey[] = [];
    for (const pair of v.split(',')) {
      const item = pair.trim();
      if (item === '') continue;
      const at = item.indexOf(':');
      const name = at > 0 ? item.slice(0, at).trim() : '';
      const key = at > 0 ? item.slice(at + 1).trim() : '';
      if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name) || key.length < 8) {
        ctx.addIssue({
          code: 'custom',
          message: 'expected comma-separated name:key pairs (name: letters, digits, _.-; key: at least 8 characters)',
        });
        return z.NEVER;
      }
      if (out.some((k) => k.name === name)) {
        ctx.addIssue({ code: 'custom', message: `name "${name}" appears twice` });
        return z.NEVER;
      }
      out.push({ name, key });
    }
    return out;
  });

/** `name:weight,…`: a caller's share of the send rate against the others (default 1 each). */
const weights = z
  .string()
  .optional()
  .transform((v, ctx): Record<string, number> => {
    const out: Record<string, number> = {};
    if (v === undefined || v.trim() === '') return out;
    for (const pair of v.split(',')) {
      const item = pair.trim();
      if (item === '') continue;
      const [name, w] = item.split(':').map((x) => x.trim());
      const n = Number(w);
      if (name === undefined || !/^[A-Za-z0-9_.-]{1,64}$/.test(name) || !Number.isInteger(n) || n < 1 || n > 1000) {
        ctx.addIssue({ code: 'custom', message: 'expected comma-separated name:weight pairs (weight a whole number from 1 to 1000)' });
        return z.NEVER;
      }
      out[name] = n;
    }
    return out;
  });

export const ROLES = ['ingress', 'dispatcher', 'fanout'] as const;
export type Role = (typeof ROLES)[number];

const roles = z
  .string()
  .optional()
  .transform((v, ctx): Role[] => {
    if (v === undefined || v.trim() === '') return [...ROLES];
    const out: Role[] = [];
    for (const raw of v.split(',')) {
      const r = raw.trim();
      if (r === '') continue;
      if (!(ROLES as readonly string[]).includes(r)) {
        ctx.addIssue({ code: 'custom', message: `unknown role "${r}"; roles are ${ROLES.join(', ')}` });
        return z.NEVER;
      }
      if (!out.includes(r as Role)) out.push(r as Role);
    }
    return out;
  });

/** WINDOW_POLICY values: what a free-form send to a closed customer-service window gets. */
export const WINDOW_POLICY_VALUES = ['enforce', 'warn', 'off'] as const;
export type WindowPolicyValue = (typeof WINDOW_POLICY_VALUES)[number];

/** A comma list of opt-out / opt-in keywords: each trimmed and case-folded, empty entries dropped. */
const keywords = (fallback: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const list = [...new Set((v === undefined || v.trim() === '' ? fallback : v).split(',').map((k) => k.normalize('NFKC').trim().toLowerCase()).filter((k) => k !== ''))];
      if (list.length === 0 && v !== undefined && v.trim() !== '') {
        ctx.addIssue({ code: 'custom', message: 'expected a comma list of keywords' });
        return z.NEVER;
      }
      if (list.some((k) => k.length > 64)) {
        ctx.addIssue({ code: 'custom', message: 'a keyword is at most 64 characters' });
        return z.NEVER;
      }
      return list;
    });

export const EnvSchema = z.object({
  REDIS_URL: z.string().optional().transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim())),
  REDIS_CLUSTER: bool(false),
  // A send or callback is answered (or 503) within this of its body arriving, however slow Redis is.
  REDIS_ANSWER_TIMEOUT_MS: int(2_000, 100, 120_000),
  // The accept and the callback ack wait for this many replicas to have the write (Redis WAIT).
  REDIS_WAIT_REPLICAS: int(0, 0, 64),
  REDIS_WAIT_TIMEOUT_MS: int(500, 1, 60_000),
  // Unset (0): what Redis already holds, else 1 (12 on Redis Cluster); see resolvePartitions.
  OUTBOUND_PARTITIONS: int(0, 1, 64),
  PORT: int(8080, 0, 65535),
  HOST: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? '0.0.0.0' : v.trim()))
    .refine((v) => /^[A-Za-z0-9.:_-]{1,253}$/.test(v), 'must be an IP address or host name to listen on'),
  RELAY_API_KEYS: namedKeys,
  RELAY_ADMIN_KEYS: namedKeys,
  QUEUE_UI_WRITE: bool(false),
  CONSOLE_RUNBOOK_URL: optionalUrl(false),
  CBOT_BASE_URL: optionalUrl(true),
  CBOT_API_KEY: optionalString,
  CBOT_API_KEY_HEADER: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const h = v === undefined || v.trim() === '' ? 'Authorization' : v.trim();
      if (!/^[A-Za-z0-9-]{1,64}$/.test(h)) {
        ctx.addIssue({ code: 'custom', message: 'expected an HTTP header name' });
        return z.NEVER;
      }
      return h;
    }),
  CBOT_APP_SECRET: optionalString,
  CBOT_WEBHOOK_USER: optionalString,
  CBOT_WEBHOOK_PASS: optionalString,
  PUBLIC_WEBHOOK_URL: optionalUrl(false),
  SUBSCRIPTIONS_FILE: optionalString,
  CHANNELS_FILE: optionalString,
  CBOT_RATE_LIMIT: num(80, 0.01),
  CBOT_TIMEOUT_MS: int(10_000, 100, 120_000),
  RELAY_ROLES: roles,
  QUEUE_PREFIX: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const p = v === undefined || v.trim() === '' ? 'cbot-relay' : v.trim();
      if (!/^[A-Za-z0-9_.{}-]{1,64}$/.test(p)) {
        ctx.addIssue({ code: 'custom', message: 'expected letters, digits, _ . - { } (at most 64)' });
        return z.NEVER;
      }
      return p;
    }),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // `auto`: pino-pretty's lines when stdout is a terminal, JSON otherwise (containers, pipes, files).
  LOG_FORMAT: z
    .string()
    .optional()
    .transform((v, ctx): 'auto' | 'json' | 'pretty' => {
      const s = v === undefined || v.trim() === '' ? 'auto' : v.trim().toLowerCase();
      if (s !== 'auto' && s !== 'json' && s !== 'pretty') {
        ctx.addIssue({ code: 'custom', message: `expected json, pretty or auto, got "${v}"` });
        return z.NEVER;
      }
      return s;
    }),
  DISPATCH_CONCURRENCY: int(512, 1, 10_000),
  DISPATCH_MAX_ATTEMPTS: int(10, 1, 1000),
  /** 131048 (spam rate limit): how long the channel pauses the first time, doubling on a repeat within 24 h (up to 24 h). */
  QUALITY_PAUSE_S: int(900, 1, 86_400),
  DISPATCH_MAX_AGE_S: int(86_400, 1),
  DISPATCH_BACKOFF_BASE_MS: int(1_000, 1),
  DISPATCH_BACKOFF_MAX_MS: int(60_000, 1),
  // How long a message whose attempt's answer was lost waits for a status identifying it (docs/resilience.md).
  RECONCILE_WINDOW_S: int(30, 0, 3_600),
  OUTBOUND_BACKLOG_MAX: int(1_000_000, 1),
  OUTBOUND_BACKLOG_MAX_BYTES: int(512 * 1024 * 1024, 0),
  RELAY_API_KEY_WEIGHTS: weights,
  // Retention of message records, bodies and list indexes; RECORD_TTL_S (seconds), when set, overrides it.
  MESSAGE_RETENTION_DAYS: int(30, 1, 3650),
  RECORD_TTL_S: int(0, 60),
  HISTORY_DATABASE_URL: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return undefined;
      if (!/^postgres(ql)?:\/\/\S+$/.test(v.trim())) {
        ctx.addIssue({ code: 'custom', message: 'expected a postgres:// (or postgresql://) URL' });
        return z.NEVER;
      }
      return v.trim();
    }),
  HOT_RETENTION: duration(48 * 3600, 3600),
  SHUTDOWN_TIMEOUT_MS: int(30_000, 100),
  INGRESS_MAX_BODY_BYTES: int(64 * 1024, 1024, 16 * 1024 * 1024),
  // WhatsApp sends callbacks of up to 3 MB; INGRESS_BODY_BUFFER_BYTES bounds what many of them hold at once.
  WEBHOOK_MAX_BODY_BYTES: int(3 * 1024 * 1024, 1024, 64 * 1024 * 1024),
  // Above what one ingress process serves on a small machine (~8,000 req/s on 2 cores), so a lone
  // caller is not capped below the relay's own speed by default; a runaway caller is still cut.
  API_KEY_RATE_LIMIT: num(20_000, 0),
  INGRESS_MAX_CONNECTIONS: int(1024, 1, 1_000_000),
  INGRESS_HEADERS_TIMEOUT_MS: int(5_000, 100, 120_000),
  INGRESS_REQUEST_TIMEOUT_MS: int(15_000, 100, 600_000),
  INGRESS_BODY_IDLE_TIMEOUT_MS: int(5_000, 100, 120_000),
  // 24 MiB, not 32: with 3 MiB callbacks, what refused reads leave to the GC comes on top (docs/resilience.md).
  INGRESS_BODY_BUFFER_BYTES: int(24 * 1024 * 1024, 64 * 1024, 4 * 1024 * 1024 * 1024),
  // Media is streamed (about 64 KiB in flight per transfer), so the cap is on CBOT's and the network's
  // share, not on memory. 100 MB at ~1 MB/s fits in the whole-transfer timeout.
  MEDIA_MAX_CONCURRENT_UPLOADS: int(16, 1, 10_000),
  MEDIA_TIMEOUT_MS: int(300_000, 1_000, 3_600_000),
  MEDIA_IDLE_TIMEOUT_MS: int(30_000, 100, 600_000),
  TEMPLATES_REFRESH_S: int(600, 5, 86_400),
  OPS_PORT: z
    .string()
    .optional()
    .transform((v, ctx): number | undefined => {
      const s = v === undefined || v.trim() === '' ? '9464' : v.trim().toLowerCase();
      if (s === 'off') return undefined;
      const n = Number(s);
      if (!/^\d{1,5}$/.test(s) || n > 65535) {
        ctx.addIssue({ code: 'custom', message: `expected a port from 0 to 65535 (0: any free port) or "off", got "${v}"` });
        return z.NEVER;
      }
      return n;
    }),
  FANOUT_CONCURRENCY: int(16, 1, 1000),
  PUSH_CONCURRENCY: int(8, 1, 1000),
  PUSH_TIMEOUT_MS: int(10_000, 100, 120_000),
  PUSH_MAX_ATTEMPTS: int(24, 1, 1000),
  EVENT_DEDUPE_TTL_S: int(7 * 86_400, 60),
  CALLBACK_MAX_ITEMS: int(1_000, 1, 1_000_000),
  EVENT_CONTACT_MAX_BYTES: int(4_096, 0, 64 * 1024 * 1024),
  SUBSCRIBER_MAX_WAITING: int(1_000_000, 0),
  SUBSCRIBER_MAX_AGE_S: int(7 * 86_400, 0),
  WINDOW_POLICY: z
    .string()
    .optional()
    .transform((v, ctx): WindowPolicyValue => {
      const s = v === undefined || v.trim() === '' ? 'enforce' : v.trim().toLowerCase();
      if (!(WINDOW_POLICY_VALUES as readonly string[]).includes(s)) {
        ctx.addIssue({ code: 'custom', message: `expected enforce, warn or off, got "${v}"` });
        return z.NEVER;
      }
      return s as WindowPolicyValue;
    }),
  OPT_OUT_KEYWORDS: keywords('STOP,UNSUBSCRIBE'),
  OPT_IN_KEYWORDS: keywords('START'),
});
export type Env = z.output<typeof EnvSchema>;
