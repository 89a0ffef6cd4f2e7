import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, sendJson } from './http-io.js';
import type { Simulator } from './simulator.js';
import { accessDeniedBody, cloudAccessDeniedBody, cloudFailure, cloudInvalidParameterBody, codedFailureBody, failureBody, invalidParameterBody } from './wa-errors.js';

const maxBodyBytes = 64 * 1024;

/** A Cloud `POST /messages` body that marks a message read rather than sending one (cheap test first: the hot path). */
export function isCloudReadReceipt(raw: string): boolean {
  return raw.includes('"message_id"') && raw.includes('"status"');
}

/**
 * Marks a message read: On-Premises `PUT /v1/messages/{id}` with `{"status":"read"}` (answered
 * `200 {}` as the On-Premises API does), or Cloud `POST /messages` with `{"messaging_product":
 * "whatsapp", "status": "read", "message_id", "typing_indicator"?: {"type": "text"}}` (answered
 * `{"success": true}`). Logged for tests and the bench; the failure knobs and failNext apply as to sends.
 */
export async function handleRead(sim: Simulator, req: IncomingMessage, res: ServerResponse, opts: { encodedWamid?: string; raw?: string }): Promise<void> {
  const cloud = sim.api === 'cloud';
  let raw = opts.raw;
  if (raw === undefined) {
    try {
      raw = await readBody(req, maxBodyBytes);
    } catch {
      return answer(sim, res, 413, invalid(sim, `body: larger than ${maxBodyBytes} bytes`));
    }
    if (!sim.authorized(req.headers)) return answer(sim, res, 401, cloud ? cloudAccessDeniedBody : accessDeniedBody);
  }
  const failure = sim.plan.next(sim.knobs, sim.now());
  if (failure !== undefined && failure.mode === 'answer') {
    if (failure.code !== undefined) {
      const headers = failure.retryAfter !== undefined ? { 'retry-after': String(failure.retryAfter) } : undefined;
      return answer(sim, res, failure.status ?? 400, codedFailureBody(sim.api, failure.code), headers);
    }
    const status = failure.status ?? 500;
    const headers = status === 429 ? { 'retry-after': String(sim.knobs.retryAfterSeconds) } : undefined;
    const f = cloud ? cloudFailure(status) : { status, body: failureBody(status) };
    return answer(sim, res, f.status, f.body, headers);
  }
  let body: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new TypeError('not an object');
    body = parsed as Record<string, unknown>;
  } catch {
    return answer(sim, res, 400, invalid(sim, 'body: not a JSON object'));
  }
  if (body.status !== 'read') return answer(sim, res, 400, invalid(sim, 'status: must be "read"'));
  const wamid = cloud ? body.message_id : decoded(opts.encodedWamid);
  if (typeof wamid !== 'string' || wamid.length === 0) return answer(sim, res, 400, invalid(sim, 'message_id: required'));
  if (cloud && body.messaging_product !== 'whatsapp') return answer(sim, res, 400, invalid(sim, 'messaging_product: must be "whatsapp"'));
  const typing = body.typing_indicator;
  if (typing !== undefined && (!cloud || (typing as { type?: unknown } | null)?.type !== 'text')) {
    return answer(sim, res, 400, invalid(sim, 'typing_indicator: must be {"type": "text"} (Cloud only)'));
  }
  const headers = { ...req.headers };
  delete headers[sim.keyHeader];
  sim.reads.record({
    wamid,
    api: sim.api,
    typing: typing !== undefined,
    body,
    receivedAt: new Date(sim.now()).toISOString(),
    messagesBefore: sim.log.counters().accepted,
    headers,
  });
  if (sim.knobs.latencyMs > 0) await sim.timers.sleep(sim.knobs.latencyMs);
  sendJson(res, 200, cloud ? '{"success":true}' : '{}');
}

function decoded(id: string | undefined): string | undefined {
  try {
    return id === undefined ? undefined : decodeURIComponent(id);
  } catch {
    return undefined;
  }
}

function invalid(sim: Simulator, details: string): string {
  return sim.api === 'cloud' ? cloudInvalidParameterBody(details) : invalidParameterBody(details);
}

async function answer(sim: Simulator, res: ServerResponse, status: number, body: string, headers?: Record<string, string>): Promise<void> {
  sim.log.countFailure(status);
  if (sim.knobs.latencyMs > 0) await sim.timers.sleep(sim.knobs.latencyMs);
  sendJson(res, status, body, headers);
}
