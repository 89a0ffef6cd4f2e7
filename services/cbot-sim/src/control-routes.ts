import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { parseJson, readBody, sendJson } from './http-io.js';
import { CallbackRequest, InboundRequest, RedeliverRequest } from './inbound-request.js';
import { issuesText } from './issues-text.js';
import type { SimFailure } from './fail-plan.js';
import { SimKnobsPatch } from './knobs.js';
import { NoWebhookError, type Delivery, type Simulator } from './simulator.js';
import { AccountEventRequest, accountEvent } from './templates.js';
import { invalidParameterBody, notFoundBody } from './wa-errors.js';

/**
 * `{status, count}`: the next `count` sends fail with that HTTP status. `{code, mode?, status?, retryAfter?, count}`: with that
 * WhatsApp code, as the send's error answer (`mode: "answer"`, the default; HTTP `status`, default 400) or after a 200 in a
 * `failed` status callback (`mode: "callback"`).
 */
export const FailNextItem = z
  .object({
    status: z.union([z.literal(500), z.literal(429), z.literal(400), z.literal(503)]).optional(),
    code: z.number().int().min(0).max(999_999_999).optional(),
    mode: z.enum(['answer', 'callback']).optional(),
    retryAfter: z.number().int().min(0).max(86_400).optional(),
    count: z.number().int().min(1),
  })
  .strict()
  .refine((f) => f.status !== undefined || f.code !== undefined, { message: 'give status or code' })
  .refine((f) => f.code !== undefined || (f.mode === undefined && f.retryAfter === undefined), { message: 'mode and retryAfter go with code' });

function failureOf(f: z.infer<typeof FailNextItem>): SimFailure {
  return {
    mode: f.mode ?? 'answer',
    ...(f.status === undefined ? {} : { status: f.status }),
    ...(f.code === undefined ? {} : { code: f.code }),
    ...(f.retryAfter === undefined ? {} : { retryAfter: f.retryAfter }),
  };
}
const KnobsRequest = SimKnobsPatch.extend({ failNext: z.array(FailNextItem).optional() }).strict();
const ResetRequest = z.object({ knobs: z.boolean().optional() }).strict();

type Handler = (sim: Simulator, body: unknown) => Promise<unknown> | unknown;

/** Test-only endpoints under /_sim/; they need no API key. Keys are `METHOD path`. */
const routes: Record<string, Handler> = {
  'GET /_sim/received': (sim) => ({ messages: sim.log.messages(), ...sim.log.counters() }),
  'GET /_sim/reads': (sim) => ({ reads: sim.reads.reads(), count: sim.reads.count }),
  'GET /_sim/callbacks': (sim) => ({ callbacks: sim.sender.list() }),
  'GET /_sim/knobs': (sim) => sim.knobs,
  'GET /_sim/media': (sim) => sim.media.counters,
  'POST /_sim/knobs': (sim, body) => {
    const { failNext, ...patch } = KnobsRequest.parse(body);
    const knobs = sim.setKnobs(patch);
    for (const f of failNext ?? []) sim.plan.failNext(failureOf(f), f.count);
    return knobs;
  },
  'GET /_sim/fail-next': (sim) => ({ failNext: sim.plan.pending() }),
  'POST /_sim/fail-next': (sim, body) => {
    const f = FailNextItem.parse(body);
    sim.plan.failNext(failureOf(f), f.count);
    return { failNext: sim.plan.pending() };
  },
  'POST /_sim/reset': (sim, body) => {
    sim.reset(ResetRequest.parse(body));
    return { ok: true };
  },
  'POST /_sim/forget-webhook': (sim) => {
    sim.forgetWebhook();
    return { url: null };
  },
  'POST /_sim/inbound': async (sim, body) => {
    const req = InboundRequest.parse(body);
    const { payload, ...delivery } = sim.deliverInbound(req);
    return { ...(await settle(delivery, req.wait)), payload };
  },
  'POST /_sim/callback': (sim, body) => {
    const req = CallbackRequest.parse(body);
    return settle(sim.deliver('custom', req.payload, req.times, req.concurrent), req.wait);
  },
  'GET /_sim/templates': (sim) => ({ templates: sim.templates }),
  /** Emits a template status / quality, phone-number quality or account change callback (Cloud envelope). */
  'POST /_sim/account-event': (sim, body) => {
    const req = AccountEventRequest.parse(body);
    const { payload, field } = accountEvent(req, sim.templates, Math.floor(sim.now() / 1000));
    // Delivered first (it throws without a webhook), then the list changes, before the relay can ask for it.
    const delivery = sim.deliver('custom', payload);
    if (req.kind === 'template_status') sim.templateStatusChanged(req.template, req.language, req.event);
    return settle(delivery, req.wait).then((r) => ({ ...r, field, payload }));
  },
  'POST /_sim/redeliver': (sim, body) => {
    const req = RedeliverRequest.parse(body);
    const delivery = sim.redeliver(req.callbackId, req.times, req.concurrent);
    if (!delivery) throw new UnknownCallbackError(req.callbackId);
    return settle(delivery, req.wait);
  },
};

export class UnknownCallbackError extends Error {
  constructor(callbackId: string) {
    super(`unknown callbackId ${callbackId}`);
    this.name = 'UnknownCallbackError';
  }
}

async function settle(delivery: Delivery, wait: boolean): Promise<Record<string, unknown>> {
  if (!wait) return { callbackId: delivery.callbackId };
  return { callbackId: delivery.callbackId, callback: await delivery.done };
}

export function isControlRoute(method: string, path: string): boolean {
  return Object.hasOwn(routes, `${method} ${path}`);
}

export async function handleControl(sim: Simulator, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  const handler = routes[`${req.method} ${path}`];
  if (!handler) return sendJson(res, 404, notFoundBody);
  const raw = await readBody(req, 1024 * 1024);
  let body: unknown;
  try {
    body = parseJson(raw);
  } catch {
    return sendJson(res, 400, invalidParameterBody('body: not valid JSON'));
  }
  try {
    sendJson(res, 200, JSON.stringify(await handler(sim, body)));
  } catch (err) {
    if (err instanceof z.ZodError) return sendJson(res, 400, invalidParameterBody(issuesText(err)));
    if (err instanceof UnknownCallbackError) return sendJson(res, 404, invalidParameterBody(err.message));
    if (err instanceof NoWebhookError) return sendJson(res, 409, invalidParameterBody(err.message));
    throw err;
  }
}
