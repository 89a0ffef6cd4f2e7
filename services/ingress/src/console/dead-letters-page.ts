import type { Request } from 'express';
import type { ConsoleDeps } from './console-deps.js';
import type { ConsoleSession } from './console-session.js';
import { csrfField, page, postButton } from './layout.js';
import { parseTimeField, shortTime, str, timeFieldValue } from './format.js';
import { html } from './html.js';
import { messageTable } from './messages-page.js';
import type { Rendered } from './messages-page.js';

const PAGE = 100;

/** What the console reads of a subscriber dead letter (EventDeadLetters' items). */
interface EventRow {
  id: string;
  subscriber: string;
  type: string;
  failedReason: string;
  failedAt: string | null;
}

function eventRow(v: unknown): EventRow | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.id !== 'string' || typeof o.subscriber !== 'string') return undefined;
  return { id: o.id, subscriber: o.subscriber, type: String(o.type ?? ''), failedReason: String(o.failedReason ?? ''), failedAt: typeof o.failedAt === 'string' ? o.failedAt : null };
}

/**
 * `/console/dead-letters`: failed messages (and subscriber deliveries), filtered by caller, channel and
 * failure time; "Replay" per row and "Replay all shown", whose result page says how many went back.
 */
export async function deadLettersPage(deps: ConsoleDeps, session: ConsoleSession, req: Request): Promise<Rendered> {
  const caller = str(req.query.caller);
  const channel = deps.channelIds.find((c) => c === req.query.channel);
  const sinceMs = parseTimeField(req.query.since);
  const before = typeof req.query.before === 'string' && /^\d{1,16}$/.test(req.query.before) ? Number(req.query.before) : undefined;
  const listed = await deps.deadLetters.list(PAGE, before);
  const failedAt = (updatedAt: string) => Date.parse(updatedAt);
  const messages = listed.messages.filter(
    (r) => (caller === undefined || r.caller === caller) && (channel === undefined || r.channel === channel) && (sinceMs === undefined || failedAt(r.updatedAt) >= sinceMs),
  );
  const events = caller === undefined && channel === undefined
    ? listed.events.map(eventRow).filter((e): e is EventRow => e !== undefined && (sinceMs === undefined || (e.failedAt !== null && Date.parse(e.failedAt) >= sinceMs)))
    : [];
  const shown = [...messages.map((m) => m.id), ...events.map((e) => e.id)];
  const notice = replayNotice(req.query);
  const option = (value: string, label: string, selected: boolean) => html`<option value="${value}"${selected ? html` selected` : ''}>${label}</option>`;
  const body = html`
<form class="filters" method="get" action="/console/dead-letters">
  <label for="caller">Caller<input id="caller" name="caller" value="${caller ?? ''}" size="12"></label>
  <label for="channel">Channel<select id="channel" name="channel">${option('', 'any', channel === undefined)}${deps.channelIds.map((c) => option(c, c, c === channel))}</select></label>
  <label for="since">Failed since (UTC)<input id="since" name="since" type="datetime-local" value="${timeFieldValue(sinceMs)}"></label>
  <button type="submit">Filter</button>
</form>
${
  shown.length > 0
    ? html`<form method="post" action="/console/dead-letters/replay">${csrfField(session)}${shown.map((id) => html`<input type="hidden" name="ids" value="${id}">`)}<button type="submit">Replay all shown</button> <span class="quiet">(${shown.length})</span></form>`
    : ''
}
<h2>Messages</h2>
${messageTable(messages, messages.length === 0 ? 'No failed messages' : `${messages.length} failed message${messages.length === 1 ? '' : 's'}, newest failure first`, (r) => postButton(session, `/console/dead-letters/${r.id}/replay`, 'Replay'))}
${listed.next !== undefined ? html`<p><a href="/console/dead-letters?${new URLSearchParams({ ...(caller ? { caller } : {}), ...(channel ? { channel } : {}), before: String(listed.next) }).toString()}">Older dead letters</a></p>` : ''}
<h2>Subscriber deliveries</h2>
${
  events.length === 0
    ? html`<p class="quiet">No failed subscriber deliveries${caller || channel ? ' (not filtered by caller or channel: clear those to see them)' : ''}.</p>`
    : html`<div class="scroll" tabindex="0" role="region" aria-label="table, scrolls sideways"><table><caption>${events.length} failed deliveries</caption><thead><tr><th scope="col">Dead letter</th><th scope="col">Subscriber</th><th scope="col">Event type</th><th scope="col">Failed</th><th scope="col">Last error</th><th scope="col">Action</th></tr></thead>
<tbody>${events.map((e) => html`<tr><td>${e.id}</td><td>${e.subscriber}</td><td>${e.type}</td><td>${shortTime(e.failedAt)}</td><td>${e.failedReason}</td><td>${postButton(session, `/console/dead-letters/${e.id}/replay`, 'Replay')}</td></tr>`)}</tbody></table></div>`
}`;
  return { status: 200, html: page({ title: 'Dead letters', current: '/console/dead-letters', session, body, ...(notice ? { notice } : {}) }) };
}

function replayNotice(q: Request['query']): string | undefined {
  const n = (v: unknown) => (typeof v === 'string' && /^\d{1,7}$/.test(v) ? Number(v) : undefined);
  const replayed = n(q.replayed);
  const skipped = n(q.skipped);
  if (replayed === undefined || skipped === undefined) return undefined;
  return `Replayed ${replayed}, skipped ${skipped} (no longer failed, body expired or gone).`;
}
