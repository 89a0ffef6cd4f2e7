import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { parseJson, readBody, sendJson } from './http-io.js';
import { issuesText } from './issues-text.js';
import type { Simulator } from './simulator.js';
import { templatesAnswer } from './templates.js';
import { accessDeniedBody, cloudAccessDeniedBody, cloudFailure, failureBody, invalidParameterBody } from './wa-errors.js';

export const WebhookConfig = z
  .object({
    url: z.url({ protocol: /^https?$/ }),
    headers: z.record(z.string(), z.string()).optional(),
  })
  .strict();

/** POST / GET /v1/configs/webhook: the callback URL (and headers, e.g. Basic auth) CBOT calls. */
export async function handleWebhookConfig(sim: Simulator, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const raw = await readBody(req, 64 * 1024);
  if (!sim.authorized(req.headers)) return sendJson(res, 401, accessDeniedBody);
  if (req.method === 'GET') return sendJson(res, 200, JSON.stringify({ url: sim.webhook?.url ?? null }));
  let parsed: ReturnType<typeof WebhookConfig.safeParse>;
  try {
    parsed = WebhookConfig.safeParse(parseJson(raw));
  } catch {
    return sendJson(res, 400, invalidParameterBody('body: not valid JSON'));
  }
  if (!parsed.success) return sendJson(res, 400, invalidParameterBody(issuesText(parsed.error)));
  sim.setWebhook(parsed.data.url, parsed.data.headers);
  sendJson(res, 200, JSON.stringify({ url: sim.webhook?.url }));
}

/** GET /v1/configs/templates: the number's message templates (knob templatesFail: a 500). */
export async function handleTemplates(sim: Simulator, req: IncomingMessage, res: ServerResponse): Promise<void> {
  await readBody(req, 64 * 1024);
  const cloud = sim.api === 'cloud';
  if (!sim.authorized(req.headers)) return sendJson(res, 401, cloud ? cloudAccessDeniedBody : accessDeniedBody);
  if (sim.knobs.templatesFail) {
    if (cloud) {
      const f = cloudFailure(500);
      return sendJson(res, f.status, f.body);
    }
    return sendJson(res, 500, failureBody(500));
  }
  sendJson(res, 200, JSON.stringify(templatesAnswer(sim.api, sim.templates)));
}
