import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import { sendJson } from './http-io.js';
import type { Simulator } from './simulator.js';
import { accessDeniedBody, cloudAccessDeniedBody, cloudInvalidParameterBody, invalidParameterBody, notFoundBody } from './wa-errors.js';

/** Where the Cloud look-up says the bytes are (WhatsApp's is lookaside.fbsbx.com). */
export const CLOUD_MEDIA_PATH = '/whatsapp_business/attachments/';

const cloudMediaNotFound = JSON.stringify({
  error: { message: 'Unsupported get request. Object with ID does not exist', type: 'GraphMethodException', code: 100, error_subcode: 33, fbtrace_id: 'sim' },
});

/** Which media route a request is, or undefined. */
export function mediaRoute(api: 'onprem' | 'cloud', method: string, path: string): { kind: 'upload' } | { kind: 'get' | 'bytes'; id: string } | undefined {
  if (api === 'onprem') {
    if (method === 'POST' && path === '/v1/media') return { kind: 'upload' };
    const m = /^\/v1\/media\/([A-Za-z0-9._-]{1,256})$/.exec(path);
    return m && method === 'GET' ? { kind: 'bytes', id: m[1]! } : undefined;
  }
  if (method === 'POST' && path === '/media') return { kind: 'upload' };
  if (method === 'GET' && path === CLOUD_MEDIA_PATH) return { kind: 'bytes', id: '' };
  const m = /^\/(\d{1,32})$/.exec(path);
  return m && method === 'GET' ? { kind: 'get', id: m[1]! } : undefined;
}

export async function handleMedia(sim: Simulator, req: IncomingMessage, res: ServerResponse, route: NonNullable<ReturnType<typeof mediaRoute>>): Promise<void> {
  const cloud = sim.api === 'cloud';
  if (!sim.authorized(req.headers)) {
    req.resume();
    return sendJson(res, 401, cloud ? cloudAccessDeniedBody : accessDeniedBody);
  }
  if (route.kind === 'upload') return cloud ? uploadCloud(sim, req, res) : uploadOnPrem(sim, req, res);
  if (route.kind === 'get') {
    const entry = sim.media.lookup(route.id);
    if (!entry) return sendJson(res, 404, cloudMediaNotFound);
    const host = sim.knobs.mediaUrlBase || `http://${req.headers.host ?? '127.0.0.1'}/`;
    const url = new URL(`${CLOUD_MEDIA_PATH.slice(1)}?mid=${entry.id}&ext=${Date.now()}`, host).href;
    return sendJson(res, 200, JSON.stringify({ messaging_product: 'whatsapp', url, mime_type: entry.mimeType, sha256: entry.sha256, file_size: entry.size, id: entry.id }));
  }
  let id = route.id;
  if (cloud) id = new URL(req.url ?? '/', 'http://x').searchParams.get('mid') ?? '';
  else if (!sim.media.lookup(id)) return sendJson(res, 404, notFoundBody);
  const found = sim.media.open(id);
  if (!found) return sendJson(res, 404, cloud ? cloudMediaNotFound : notFoundBody);
  res.writeHead(200, { 'content-type': found.entry.mimeType, 'content-length': found.entry.size });
  found.body.pipe(res);
  res.once('close', () => found.body.destroy());
}

async function uploadOnPrem(sim: Simulator, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const type = req.headers['content-type'];
  if (!type) {
    req.resume();
    return sendJson(res, 400, invalidParameterBody('Content-Type: required'));
  }
  const stored = await store(sim, req, type, res);
  if (stored === undefined) return;
  sendJson(res, 201, JSON.stringify({ media: [{ id: stored }], meta: { api_status: 'stable', version: '2.53.1' } }));
}

/** Cloud: multipart with messaging_product=whatsapp and a `file` part (its Content-Type is the media's). */
function uploadCloud(sim: Simulator, req: IncomingMessage, res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const bad = (details: string) => {
      req.unpipe();
      req.resume();
      sendJson(res, 400, cloudInvalidParameterBody(details));
      resolve();
    };
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { files: 1, fields: 10, fieldSize: 1024 } });
    } catch {
      return bad('expected multipart/form-data');
    }
    const fields: Record<string, string> = {};
    let upload: Promise<string | undefined> | undefined;
    parser.on('field', (name, value) => {
      fields[name] = value;
    });
    parser.on('file', (name, file, info) => {
      if (name !== 'file' || upload) return void file.resume();
      upload = store(sim, file, info.mimeType, res);
    });
    parser.on('error', () => bad('malformed multipart body'));
    parser.on('close', () => {
      void (async () => {
        if (!upload) return bad('file: required');
        const id = await upload;
        if (id === undefined) return resolve();
        if (fields.messaging_product !== 'whatsapp') return bad('messaging_product: must be whatsapp');
        sendJson(res, 200, JSON.stringify({ id }));
        resolve();
      })();
    });
    req.pipe(parser);
  });
}

async function store(sim: Simulator, body: Readable, mimeType: string, res?: ServerResponse): Promise<string | undefined> {
  try {
    return (await sim.media.put(body, mimeType)).id;
  } catch {
    // The client went away mid-upload: nothing to answer.
    res?.destroy();
    return undefined;
  }
}
