import { z } from 'zod';

const rate = z.number().min(0).max(1);
const delayMs = z.number().int().min(0).max(3_600_000);

/** Relative weights of the simulated failure statuses; at least one must be > 0. */
export const ErrorMix = z
  .object({
    '500': z.number().min(0).optional(),
    '429': z.number().min(0).optional(),
    '400': z.number().min(0).optional(),
  })
  .strict()
  .refine((m) => (m['500'] ?? 0) + (m['429'] ?? 0) + (m['400'] ?? 0) > 0, {
    message: 'at least one weight must be > 0',
  });
export type ErrorMix = z.infer<typeof ErrorMix>;

/** Retry of a callback the webhook did not answer with 200: delay doubles from initialDelayMs up to maxDelayMs. */
export const CallbackRetry = z
  .object({
    attempts: z.number().int().min(1).max(1000),
    initialDelayMs: delayMs,
    maxDelayMs: delayMs,
  })
  .strict();
export type CallbackRetry = z.infer<typeof CallbackRetry>;

export const SimKnobs = z
  .object({
    /** Added delay before every /v1/messages answer. */
    latencyMs: delayMs,
    /** Share of /v1/messages calls answered with a failure drawn from errorMix. */
    errorRate: rate,
    errorMix: ErrorMix,
    /** Value of the Retry-After header on simulated 429s. */
    retryAfterSeconds: z.number().int().min(0).max(86_400),
    /** Epoch ms until which every /v1/messages call gets 503; 0 = no outage. */
    outageUntil: z.number().int().min(0),
    /** Recipients answered WhatsApp 131056 (pair rate limit, HTTP 400) until the given epoch ms. */
    pairRateLimited: z.record(z.string(), z.number().int().min(0)),
    /** Share of accepted messages whose answer is lost (socket destroyed after recording). */
    dropAnswerRate: rate,
    /** Send sent/delivered/read callbacks for accepted messages. */
    statusCallbacks: z.boolean(),
    /** Delay after acceptance of the sent, delivered and read callbacks. */
    statusDelaysMs: z.tuple([delayMs, delayMs, delayMs]),
    callbackRetry: CallbackRetry,
    /** Timeout of one callback HTTP attempt. */
    callbackTimeoutMs: z.number().int().min(1).max(600_000),
    /** Cloud media look-ups answer URLs on this origin (WhatsApp's CDN); '' = the simulator's own. */
    mediaUrlBase: z.union([z.literal(''), z.url({ protocol: /^https?$/ })]),
    /** GET /v1/configs/templates answers 500: a CBOT that cannot list templates. */
    templatesFail: z.boolean(),
  })
  .strict();
export type SimKnobs = z.infer<typeof SimKnobs>;

export const SimKnobsPatch = SimKnobs.extend({ callbackRetry: CallbackRetry.partial() }).partial();
export type SimKnobsPatch = z.infer<typeof SimKnobsPatch>;

export const defaultKnobs: SimKnobs = {
  latencyMs: 0,
  errorRate: 0,
  errorMix: { '500': 1 },
  retryAfterSeconds: 1,
  outageUntil: 0,
  pairRateLimited: {},
  dropAnswerRate: 0,
  statusCallbacks: true,
  statusDelaysMs: [50, 150, 300],
  // 10 tries: 0.2+0.4+0.8+1.6+3.2+5*4 s ≈ 26 s of waiting in the worst case.
  callbackRetry: { attempts: 10, initialDelayMs: 200, maxDelayMs: 5_000 },
  callbackTimeoutMs: 10_000,
  mediaUrlBase: '',
  templatesFail: false,
};

/** Validates a patch and applies it to `base`; throws a ZodError on bad input. */
export function mergeKnobs(base: SimKnobs, patch: unknown): SimKnobs {
  const p = SimKnobsPatch.parse(patch);
  const next: SimKnobs = { ...base };
  for (const [key, value] of Object.entries(p)) {
    if (value !== undefined && key !== 'callbackRetry') Object.assign(next, { [key]: value });
  }
  if (p.callbackRetry) next.callbackRetry = { ...base.callbackRetry, ...stripUndefined(p.callbackRetry) };
  return SimKnobs.parse(next);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
