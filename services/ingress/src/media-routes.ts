import type { ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { Router } from 'express';
import type { RequestHandler } from 'express';
import type { MediaDownload, MediaFailure, MediaUpload, MediaUploadInput } from '@cbot-relay/cbot-client';
import { MEDIA_ID_PATTERN } from '@cbot-relay/messages';
import type { Logger } from '@cbot-relay/observability';
import { HttpError, UnavailableError } from './http-error.js';
import { openUpload } from './media-source.js';
import type { ChannelRouting, SendRoutesDeps } from './send-routes.js';
import { admit, caller } from './send-routes.js';

/** A channel's CBOT, as far as media goes (CbotClient). */
export interface MediaCbot {
  uploadMedia(input: MediaUploadInput): Promise<MediaUpload>;
  openMedia(id: string, signal?: AbortSignal): Promise<MediaDownload>;
}

export interface MediaRoutesDeps {
  /** Keys, per-key admission and channel ACL: the send API's. */
  send: SendRoutesDeps;
  /** Channels with a CBOT to talk to; a configured channel missing here answers 503. */
  cbot: ReadonlyMap<string, MediaCbot>;
  /** Media ids CBOT answered 404 for (MediaMissing, in Redis). */
  missing: { has(channel: string, id: string): Promise<boolean>; remember(channel: string, id: string): Promise<void> };
  maxConcurrentUploads: number;
  /** A whole transfer within this. (An upload's body idle timeout is the server's: ServerLimits.longBody.) */
  timeoutMs: number;
  log: Logger;
}

const SINGLE_CHANNEL: ChannelRouting = { ids: ['default'], defaultId: 'default', allowed: new Map() };

/** `?channel=` as the send body's `channel`: unknown is 400, one the key may not use 403. */
export function mediaChannel(routing: ChannelRouting | undefined, who: string, query: unknown): string {
  const r = routing ?? SINGLE_CHANNEL;
  const named = query === undefined || query === '' ? r.defaultId : query;
  if (typeof named !== 'string') throw new HttpError(400, 'invalid_query', 'channel must be given once', [{ path: 'channel', message: 'repeated' }]);
  if (!r.ids.includes(named)) {
    const shown = named.length > 64 ? `${named.slice(0, 64)}…` : named;
    throw new HttpError(400, 'unknown_channel', `unknown channel "${shown}"; channels are ${r.ids.join(', ')}`, [{ path: 'channel', message: 'unknown channel' }]);
  }
  const allowed = r.allowed.get(who);
  if (allowed !== undefined && !allowed.includes(named)) {
    throw new HttpError(403, 'channel_forbidden', `this API key may not use channel "${named}"`, [{ path: 'channel', message: `allowed: ${allowed.join(', ')}` }]);
  }
  return named;
}

function failure(f: MediaFailure): HttpError {
  return new HttpError(f.status, f.code, f.message, [], f.retryAfter ? { 'Retry-After': f.retryAfter } : {});
}

/**
 * POST /v1/media and GET /v1/media/{id}: files streamed between the caller and the channel's CBOT,
 * never whole in memory (backpressure runs from CBOT's socket to the caller's). No body parser runs
 * on these routes; the JSON body limits do not apply, WhatsApp's per-kind limits do.
 */
export function mediaRoutes(deps: MediaRoutesDeps): Router {
  const r = Router();
  let uploading = 0;

  const authenticate: RequestHandler = async (req, res, next) => {
    const who = caller(deps.send.keys, req.headers);
    res.locals.caller = who;
    res.locals.channel = mediaChannel(deps.send.channels, who, req.query.channel);
    await admit(deps.send, who, res);
    next();
  };

  const cbotOf = (channel: string): MediaCbot => {
    const cbot = deps.cbot.get(channel);
    if (!cbot) throw new HttpError(503, 'channel_unconfigured', `channel "${channel}" has no CBOT base URL and key configured for media`);
    return cbot;
  };

  r.post('/v1/media', authenticate, async (req, res) => {
    const channel = res.locals.channel as string;
    const cbot = cbotOf(channel);
    if (uploading >= deps.maxConcurrentUploads) {
      throw new HttpError(429, 'too_many_uploads', `this ingress streams ${deps.maxConcurrentUploads} uploads at once; retry later`, [], { 'Retry-After': '1' });
    }
    uploading++;
    try {
      const signal = transferSignal(res, deps.timeoutMs);
      const source = await openUpload(req, signal);
      const sent = await cbot.uploadMedia({
        body: source.body,
        contentType: source.contentType,
        ...(source.contentLength === undefined ? {} : { contentLength: source.contentLength }),
        ...(source.filename === undefined ? {} : { filename: source.filename }),
        signal,
      });
      if (source.failure) {
        // The rest of the body is not read: the answer closes the connection.
        res.setHeader('Connection', 'close');
        throw source.failure;
      }
      if (!sent.ok) {
        if (!req.complete) res.setHeader('Connection', 'close');
        throw failure(sent);
      }
      res.status(201).json({ id: sent.id, channel });
    } finally {
      uploading--;
    }
  });

  r.get('/v1/media/:id', authenticate, async (req, res) => {
    const channel = res.locals.channel as string;
    const id = String(req.params.id);
    if (!MEDIA_ID_PATTERN.test(id)) throw new HttpError(404, 'media_not_found', 'no media with this id');
    const cbot = cbotOf(channel);
    let missing: boolean;
    try {
      missing = await deps.missing.has(channel, id);
    } catch (err) {
      throw new UnavailableError(err);
    }
    if (missing) throw new HttpError(404, 'media_not_found', 'CBOT has no media with this id (remembered for 5 min)');
    const got = await cbot.openMedia(id, transferSignal(res, deps.timeoutMs));
    if (!got.ok) {
      if (got.status === 404) await deps.missing.remember(channel, id).catch((err: unknown) => deps.log.warn({ err }, 'could not remember a missing media id'));
      throw failure(got);
    }
    res.status(200);
    res.setHeader('Content-Type', got.contentType);
    // A file, never a page of the relay's origin, whatever type CBOT gives it.
    res.setHeader('Content-Disposition', 'attachment');
    if (got.contentLength !== undefined) res.setHeader('Content-Length', got.contentLength);
    try {
      await pipeline(got.body, res);
    } catch (err) {
      // Headers are out: all that can be said is that the body ended early.
      deps.log.warn({ err, channel }, 'media download cut');
      res.destroy();
    }
  });

  return r;
}

/** Aborted when the caller goes away or the whole transfer takes longer than `timeoutMs`. */
function transferSignal(res: ServerResponse, timeoutMs: number): AbortSignal {
  const transfer = new AbortController();
  // Not AbortSignal.timeout: its timer would keep this request's streams reachable for the whole
  // timeout after the request ended; this one goes with the response.
  const timer = setTimeout(() => transfer.abort(new DOMException('the media transfer took too long', 'TimeoutError')), timeoutMs);
  // Also when an answer was written before the transfer ended (a 408 for a stalled upload): the
  // caller's request is over either way. Aborting a finished transfer does nothing.
  res.once('close', () => {
    clearTimeout(timer);
    transfer.abort();
  });
  return transfer.signal;
}
