import { Router, raw } from 'express';
import { CancelTagRequest } from '@cbot-relay/api';
import type { MessageRecord } from '@cbot-relay/records';
import { HttpError, UnavailableError } from './http-error.js';
import { lister } from './list-route.js';
import { readJson } from './read-json.js';
import { RELAY_ID_PATTERN } from './relay-id.js';
import type { SendRoutesDeps } from './send-routes.js';
import { requireJson } from './send-routes.js';

/** A cancel-by-tag body is small: `{"tag", "caller"?}`. */
const CANCEL_BODY_BYTES = 4 * 1024;

/**
 * DELETE /v1/messages/{id} and POST /v1/messages/cancel: a message not yet handed to CBOT ends
 * `canceled`, in one Lua step with the claims (cancelOne in packages/records), so it is either canceled
 * and never sent, or already `sending` and answered 409. A caller key cancels its own messages, an
 * admin key anyone's.
 */
export function cancelRoutes(deps: SendRoutesDeps): Router {
  const r = Router();

  r.delete('/v1/messages/:id', async (req, res) => {
    const who = lister(deps, req.headers);
    const id = String(req.params.id);
    if (!RELAY_ID_PATTERN.test(id)) throw new HttpError(404, 'not_found', 'no such message');
    let result;
    let rec: MessageRecord | undefined;
    try {
      result = await deps.outbound.cancel(id, who.caller, deps.now());
      rec = result.kind === 'missing' ? undefined : await deps.store.get(id);
    } catch (err) {
      throw new UnavailableError(err);
    }
    if (result.kind === 'missing' || !rec) throw new HttpError(404, 'not_found', 'no such message');
    if (result.kind === 'not-cancelable') {
      throw new HttpError(409, 'not_cancelable', `the message is ${result.status}: it was already handed to CBOT or has ended`, [
        { path: 'status', message: result.status },
      ]);
    }
    deps.metrics.canceled.inc({ caller: rec.caller });
    deps.log.info({ id, caller: rec.caller, by: who.caller ?? 'admin' }, 'message canceled');
    if (who.caller === undefined) return void res.json(rec);
    const { caller: _caller, ...view } = rec;
    res.json(view);
  });

  r.post('/v1/messages/cancel', raw({ type: () => true, limit: CANCEL_BODY_BYTES }), async (req, res) => {
    const who = lister(deps, req.headers);
    requireJson(req.headers);
    const parsed = CancelTagRequest.safeParse(readJson(req.body).value);
    if (!parsed.success) {
      const details = parsed.error.issues.map((i) => ({ path: i.path.length > 0 ? i.path.join('.') : i.code === 'unrecognized_keys' ? i.keys.slice(0, 10).join(',') : '', message: i.message }));
      throw new HttpError(400, 'invalid_request', 'body must be {"tag": "<1 to 64 characters of A-Z a-z 0-9 . _ : ->"} (an admin key may add "caller")', details);
    }
    const { tag } = parsed.data;
    if (who.caller !== undefined && parsed.data.caller !== undefined && parsed.data.caller !== who.caller) {
      throw new HttpError(400, 'invalid_request', 'only an admin key may name a caller', [{ path: 'caller', message: 'not allowed with this key' }]);
    }
    const whose = who.caller ?? parsed.data.caller;
    let canceled;
    try {
      canceled = await deps.outbound.cancelTag(whose, tag, deps.now);
    } catch (err) {
      throw new UnavailableError(err);
    }
    if (canceled > 0) deps.metrics.canceled.inc({ caller: whose ?? '*' }, canceled);
    deps.log.info({ tag, caller: whose ?? '*', by: who.caller ?? 'admin', canceled }, 'messages canceled by tag');
    res.json({ canceled });
  });

  return r;
}
