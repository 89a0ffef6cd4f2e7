import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, sendJson } from './http-io.js';
import type { SimReceivedMessage } from './message-log.js';
import { handleRead, isCloudReadReceipt } from './read-route.js';
import type { Simulator } from './simulator.js';
import { validateMessage } from './validate-message.js';
import {
  accessDeniedBody, cloudAccessDeniedBody, cloudFailure, cloudInvalidParameterBody, cloudWindowClosedBody, codedFailureBody, failureBody, invalidParameterBody,
  pairRateLimitBody, windowClosedBody,
} from './wa-errors.js';

const maxBodyBytes = 1024 * 1024;
const meta = '"meta":{"api_status":"stable","version":"2.53.1"}';

/**
 * POST /v1/messages (On-Premises) or POST /messages (Cloud: `messaging_product` required, Graph error
 * bodies, throttling on HTTP 400) — the benchmark hot path: no framework, no per-request allocations
 * beyond the record.
 */
export async function handleMessages(sim: Simulator, req: IncomingMessage, res: ServerResponse): Promise<void> {
  sim.log.countAttempt();
  let raw: string;
  try {
    raw = await readBody(req, maxBodyBytes);
  } catch {
    return answer(sim, res, 413, invalid(sim, `body: larger than ${maxBodyBytes} bytes`));
  }
  const cloud = sim.api === 'cloud';
  if (!sim.authorized(req.headers)) return answer(sim, res, 401, cloud ? cloudAccessDeniedBody : accessDeniedBody);
  // Cloud marks a message read on the same path as a send.
  if (cloud && isCloudReadReceipt(raw)) return handleRead(sim, req, res, { raw });
  const knobs = sim.knobs;
  const failure = sim.plan.next(knobs, sim.now());
  if (failure !== undefined && failure.mode === 'answer') {
    if (failure.code !== undefined) {
      const headers = failure.retryAfter !== undefined ? { 'retry-after': String(failure.retryAfter) } : undefined;
      return answer(sim, res, failure.status ?? 400, codedFailureBody(sim.api, failure.code), headers);
    }
    const status = failure.status ?? 500;
    const headers = status === 429 ? { 'retry-after': String(knobs.retryAfterSeconds) } : undefined;
    if (cloud) {
      const f = cloudFailure(status);
      return answer(sim, res, f.status, f.body, headers);
    }
    return answer(sim, res, status, failureBody(status), headers);
  }
  // mode 'callback': accepted as usual, then reported failed with the code (see Simulator.accepted).
  const failLater = failure?.code;
  const check = validateMessage(raw);
  if (!check.ok) return answer(sim, res, 400, invalid(sim, check.details));
  if (cloud && check.message.body.messaging_product !== 'whatsapp') {
    return answer(sim, res, 400, cloudInvalidParameterBody('messaging_product: must be "whatsapp"'));
  }

  const { to, type, body } = check.message;
  if ((knobs.pairRateLimited[to] ?? 0) > sim.now()) return answer(sim, res, 400, pairRateLimitBody);
  if (type !== 'template' && sim.outsideWindow(to)) return answer(sim, res, 400, cloud ? cloudWindowClosedBody : windowClosedBody);
  const wamid = sim.ids.wamid();
  const answerDropped = knobs.dropAnswerRate > 0 && sim.random() < knobs.dropAnswerRate;
  const headers = { ...req.headers };
  delete headers[sim.keyHeader];
  const record: SimReceivedMessage = {
    wamid, to, type, body, receivedAt: new Date(sim.now()).toISOString(), headers, answerDropped, answer: 'pending',
  };
  sim.log.record(record);
  // From here on the message counts as sent whatever becomes of the answer; note what does, so a
  // resend can be told apart from one whose first answer actually reached the client.
  res.once('finish', () => {
    if (record.answer === 'pending') record.answer = 'written';
  });
  res.once('close', () => {
    if (record.answer !== 'pending') return;
    record.answer = 'client-gone';
    sim.log.countClientGone();
  });

  if (knobs.latencyMs > 0) await sim.timers.sleep(knobs.latencyMs);
  // Cloud returns the sender's biz_opaque_callback_data in every status of the message (a string, ≤ 512 chars).
  const opaque = cloud && typeof body.biz_opaque_callback_data === 'string' ? body.biz_opaque_callback_data : undefined;
  sim.accepted({ wamid, to, type, ...(opaque === undefined ? {} : { opaque }) }, failLater);
  if (record.answer === 'pending' && (res.destroyed || req.socket.destroyed)) {
    record.answer = 'client-gone'; // closed before the listeners above could see it
    sim.log.countClientGone();
  }
  if (answerDropped) {
    // CBOT accepted the message but the answer is lost on the way back.
    record.answer = 'dropped';
    req.socket.destroy();
    return;
  }
  if (cloud) {
    const contact = `{"input":${JSON.stringify(to)},"wa_id":${JSON.stringify(to)}}`;
    sendJson(res, 200, `{"messaging_product":"whatsapp","contacts":[${contact}],"messages":[{"id":${JSON.stringify(wamid)}}]}`);
    return;
  }
  sendJson(res, 200, `{"messages":[{"id":${JSON.stringify(wamid)}}],${meta}}`);
}

function invalid(sim: Simulator, details: string): string {
  return sim.api === 'cloud' ? cloudInvalidParameterBody(details) : invalidParameterBody(details);
}

async function answer(
  sim: Simulator,
  res: ServerResponse,
  status: number,
  body: string,
  headers?: Record<string, string>,
): Promise<void> {
  sim.log.countFailure(status);
  const latencyMs = sim.knobs.latencyMs;
  if (latencyMs > 0) await sim.timers.sleep(latencyMs);
  sendJson(res, status, body, headers);
}
