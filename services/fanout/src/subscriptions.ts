import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { RELAY_EVENT_TYPES } from '@cbot-relay/messages';
import type { RelayEventType } from '@cbot-relay/messages';

const NAME = /^[A-Za-z0-9_-]{1,64}$/;
const WHSEC = /^whsec_([A-Za-z0-9+/]+={0,2})$/;
const MIN_SECRET_BYTES = 16;

const Types = z
  .array(
    z.string().refine((t) => t === '*' || (RELAY_EVENT_TYPES as readonly string[]).includes(t), {
      error: (iss) => `unknown event type ${JSON.stringify(iss.input)} (known: ${RELAY_EVENT_TYPES.join(', ')}, or "*")`,
    }),
  )
  .min(1, 'list at least one event type, or "*"')
  .refine((ts) => !ts.includes('*') || ts.length === 1, '"*" must stand alone')
  .default(['*'])
  .transform((ts) => ts as ('*' | RelayEventType)[]);

/**
 * A Standard Webhooks secret, `whsec_<base64>` (the signing key is the decoded bytes), or any other
 * string of at least 16 characters, whose UTF-8 bytes are the key. Messages never echo the value.
 */
const Secret = z.string({ error: 'required for http subscribers: whsec_<base64> or a string of 16+ characters' }).superRefine((s, ctx) => {
  const m = WHSEC.exec(s);
  if (s.startsWith('whsec_')) {
    if (!m?.[1] || Buffer.from(m[1], 'base64').length < MIN_SECRET_BYTES) {
      ctx.addIssue({ code: 'custom', message: `whsec_ secret must be base64 of at least ${MIN_SECRET_BYTES} bytes` });
    }
  } else if (s.length < MIN_SECRET_BYTES) {
    ctx.addIssue({ code: 'custom', message: `must be whsec_<base64> or a string of at least ${MIN_SECRET_BYTES} characters` });
  }
});

/** Channel ids (CHANNELS_FILE) a subscriber takes events of, or `["*"]`; absent: every channel. */
const Channels = z
  .array(z.string().regex(/^(\*|[A-Za-z0-9._-]{1,64})$/, 'must be a channel id or "*"'))
  .min(1, 'list at least one channel, or "*"')
  .refine((cs) => !cs.includes('*') || cs.length === 1, '"*" must stand alone')
  .optional();

const Name = z.string().regex(NAME, 'must match ^[A-Za-z0-9_-]{1,64}$');

/** Retention of a queue subscriber's waiting events; absent: SUBSCRIBER_MAX_WAITING / SUBSCRIBER_MAX_AGE_S; 0: unbounded. */
const Count = z.number().int('must be a whole number').min(0, 'must be 0 (unbounded) or more');
const QueueSubscriber = z.strictObject({
  name: Name,
  kind: z.literal('queue'),
  types: Types,
  channels: Channels,
  maxWaiting: Count.optional(),
  maxAgeS: Count.optional(),
});
const HttpSubscriber = z.strictObject({
  name: Name,
  kind: z.literal('http'),
  url: z.url({ protocol: /^https?$/, error: 'required for http subscribers: an http(s) URL' }),
  secret: Secret,
  types: Types,
  channels: Channels,
});

export const Subscriber = z.discriminatedUnion('kind', [QueueSubscriber, HttpSubscriber], {
  error: 'kind must be "queue" or "http"',
});
export type Subscriber = z.infer<typeof Subscriber>;
export type HttpSubscriber = Extract<Subscriber, { kind: 'http' }>;

export const Subscriptions = z.strictObject({
  subscribers: z
    .array(Subscriber)
    .min(1, 'list at least one subscriber')
    .superRefine((subs, ctx) => {
      const seen = new Set<string>();
      subs.forEach((s, i) => {
        if (seen.has(s.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate name "${s.name}"` });
        seen.add(s.name);
      });
    }),
});
export type Subscriptions = z.infer<typeof Subscriptions>;

/** With no SUBSCRIPTIONS_FILE, one queue subscriber named `default` gets every event. */
export const DEFAULT_SUBSCRIPTIONS: Subscriptions = { subscribers: [{ name: 'default', kind: 'queue', types: ['*'] }] };

/** Reads and validates SUBSCRIPTIONS_FILE; throws `SUBSCRIPTIONS_FILE: …` naming the bad entry. */
export function loadSubscriptions(file: string | undefined): Subscriptions {
  if (file === undefined || file.trim() === '') return DEFAULT_SUBSCRIPTIONS;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'read error';
    throw new Error(`SUBSCRIPTIONS_FILE: cannot read ${file} (${code})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // V8's message quotes part of the text, which may hold a secret.
    throw new Error(`SUBSCRIPTIONS_FILE: ${file} is not valid JSON`);
  }
  return parseSubscriptions(json);
}

/** Validates an already parsed subscriptions document. */
export function parseSubscriptions(json: unknown): Subscriptions {
  const parsed = Subscriptions.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new Error(`SUBSCRIPTIONS_FILE: ${where(json, issue?.path ?? [])}: ${issue?.message ?? 'invalid'}`);
}

/** `subscribers[1] ("crm").types[0]`: the entry's name is shown when it is a valid one (never a secret). */
function where(json: unknown, path: readonly PropertyKey[]): string {
  if (path.length === 0) return 'document';
  let out = '';
  for (const [i, key] of path.entries()) {
    out += typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`;
    if (i === 1 && path[0] === 'subscribers' && typeof key === 'number') {
      const name = entryName(json, key);
      if (name !== undefined) out += ` ("${name}")`;
    }
  }
  return out;
}

function entryName(json: unknown, index: number): string | undefined {
  const subs = (json as { subscribers?: unknown } | null)?.subscribers;
  const name = Array.isArray(subs) ? (subs[index] as { name?: unknown } | null)?.name : undefined;
  return typeof name === 'string' && NAME.test(name) ? name : undefined;
}

/** Whether a subscriber wants events of this type. */
export function wants(sub: Subscriber, type: RelayEventType): boolean {
  return sub.types.includes('*') || sub.types.includes(type);
}
