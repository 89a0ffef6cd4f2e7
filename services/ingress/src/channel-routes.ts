import { Router, raw } from 'express';
import { ChannelPauseRequest, channelView } from '@cbot-relay/api';
import type { ChannelInfo, ChannelView } from '@cbot-relay/api';
import { channelEvent } from '@cbot-relay/messages';
import type { RelayEvent } from '@cbot-relay/messages';
import type { Logger } from '@cbot-relay/observability';
import type { ChannelGateState, GateChange, Outbound } from '@cbot-relay/records';
import type { KeyRing } from './auth.js';
import { HttpError, UnavailableError } from './http-error.js';
import { readJson } from './read-json.js';
import { caller } from './send-routes.js';

export interface ChannelRoutesDeps {
  adminKeys: KeyRing;
  channels: readonly ChannelInfo[];
  outbound: Pick<Outbound, 'changeGate' | 'gateState' | 'queuedByChannel' | 'qualities'>;
  /** QUALITY_PAUSE_S in ms (the gate script takes it with every change). */
  qualityPauseMs: number;
  /** Hands channel.paused / channel.resumed to the fanout (RelayEvents); absent: none is emitted. */
  emit?: (event: RelayEvent, nowMs: number) => Promise<void>;
  now: () => number;
  log: Logger;
}

/** `{"seconds"?}` is a few bytes. */
const MAX_BODY_BYTES = 1024;

/**
 * `/v1/channels`: the channels' state (active, paused, stopped), backlog and number quality, and an
 * operator's pause and resume, behind RELAY_ADMIN_KEYS.
 */
export function channelRoutes(deps: ChannelRoutesDeps): Router {
  const r = Router();
  const byId = new Map(deps.channels.map((c) => [c.id, c]));
  r.use('/v1/channels', (req, res, next) => {
    res.locals.route = '/v1/channels/*';
    res.locals.admin = caller(deps.adminKeys, req.headers, 'RELAY_ADMIN_KEYS');
    next();
  });

  r.get('/v1/channels', async (_req, res) => {
    const now = deps.now();
    const [queued, qualities, states] = await storage(() =>
      Promise.all([deps.outbound.queuedByChannel(), deps.outbound.qualities(), Promise.all(deps.channels.map((c) => deps.outbound.gateState(c.id, now)))]),
    );
    res.json(deps.channels.map((c, i) => channelView(c, states[i]!, queued[c.id] ?? 0, qualities[c.id])));
  });

  r.post('/v1/channels/:id/pause', raw({ type: () => true, limit: MAX_BODY_BYTES }), async (req, res) => {
    const ch = known(byId, String(req.params.id));
    const input = readPause(req.body);
    const change: GateChange = input.seconds === undefined ? { action: 'pause' } : { action: 'pause', ms: input.seconds * 1000 };
    const state = await apply(deps, ch.id, change, res.locals.admin);
    res.json(await viewOf(deps, ch, state));
  });

  r.post('/v1/channels/:id/resume', raw({ type: () => true, limit: MAX_BODY_BYTES }), async (req, res) => {
    const ch = known(byId, String(req.params.id));
    await apply(deps, ch.id, { action: 'resume' }, res.locals.admin);
    res.json(await viewOf(deps, ch, { state: 'active' }));
  });
  return r;
}

async function apply(deps: ChannelRoutesDeps, channel: string, change: GateChange, admin: unknown): Promise<ChannelGateState> {
  const now = deps.now();
  const { changed, state } = await storage(() => deps.outbound.changeGate(channel, change, now, deps.qualityPauseMs));
  if (changed) {
    deps.log.warn({ channel, action: change.action, state, admin }, change.action === 'resume' ? 'channel resumed by an operator' : 'channel paused by an operator');
    if (deps.emit) await deps.emit(channelEvent(channel, state, now), now).catch((err: unknown) => deps.log.error({ err, channel }, 'channel event not emitted'));
  }
  return state;
}

async function viewOf(deps: ChannelRoutesDeps, ch: ChannelInfo, state: ChannelGateState): Promise<ChannelView> {
  const [queued, qualities] = await storage(() => Promise.all([deps.outbound.queuedByChannel(), deps.outbound.qualities()]));
  return channelView(ch, state, queued[ch.id] ?? 0, qualities[ch.id]);
}

function known(byId: ReadonlyMap<string, ChannelInfo>, id: string): ChannelInfo {
  const ch = byId.get(id);
  if (!ch) throw new HttpError(404, 'not_found', /^[A-Za-z0-9_-]{1,64}$/.test(id) ? `no channel "${id}"` : 'no such channel');
  return ch;
}

function readPause(body: unknown): ChannelPauseRequest {
  // An empty body (or none) is a pause until resumed.
  const raw = Buffer.isBuffer(body) && body.length > 0 ? body : Buffer.from('{}');
  const parsed = ChannelPauseRequest.safeParse(readJson(raw).value);
  if (parsed.success) return parsed.data;
  const details = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  throw new HttpError(400, 'invalid_request', 'body must be {"seconds"?: 1 to 2592000}', details);
}

async function storage<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw new UnavailableError(err);
  }
}
