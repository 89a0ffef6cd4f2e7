import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { handleControl } from './control-routes.js';
import { BodyTooLargeError, sendJson } from './http-io.js';
import { handleMedia, mediaRoute } from './media-routes.js';
import { handleMessages } from './messages-route.js';
import { handleRead } from './read-route.js';
import type { Simulator } from './simulator.js';
import { cloudNotFoundBody, invalidParameterBody, notFoundBody } from './wa-errors.js';
import { handleTemplates, handleWebhookConfig } from './webhook-route.js';

/** Plain node:http routing: the simulator has a handful of fixed paths and must stay fast. */
export function createRequestListener(sim: Simulator, logger: Logger): RequestListener {
  const messagesPath = sim.api === 'cloud' ? '/messages' : '/v1/messages';
  return (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const method = req.method ?? 'GET';
    let work: Promise<void> | undefined;
    const media = mediaRoute(sim.api, method, path);
    if (path === messagesPath && method === 'POST') work = handleMessages(sim, req, res);
    // On-Premises marks a message read with PUT /v1/messages/{id}.
    else if (sim.api === 'onprem' && method === 'PUT' && path.startsWith('/v1/messages/') && path.length > 13) {
      work = handleRead(sim, req, res, { encodedWamid: path.slice(13) });
    } else if (path === '/v1/configs/webhook' && (method === 'POST' || method === 'GET')) {
      work = handleWebhookConfig(sim, req, res);
    } else if (path === '/v1/configs/templates' && method === 'GET') work = handleTemplates(sim, req, res);
    else if (path.startsWith('/_sim/')) work = handleControl(sim, req, res, path);
    else if (media) work = handleMedia(sim, req, res, media);
    else if (path === '/healthz' && method === 'GET') sendJson(res, 200, '{"status":"ok"}');
    else notFound(req, res, sim.api === 'cloud' ? cloudNotFoundBody : notFoundBody);
    work?.catch((err: unknown) => fail(logger, res, err));
  };
}

function notFound(req: IncomingMessage, res: ServerResponse, body: string): void {
  req.resume();
  sendJson(res, 404, body);
}

function fail(logger: Logger, res: ServerResponse, err: unknown): void {
  if (err instanceof BodyTooLargeError) return sendJson(res, 413, invalidParameterBody(`body: ${err.message}`));
  logger.error({ err }, 'simulator request failed');
  if (!res.headersSent) sendJson(res, 500, '{"errors":[{"code":1014,"title":"Internal error"}]}');
  else res.destroy();
}
