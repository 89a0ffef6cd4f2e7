import type { Request } from 'express';
import { MessageStatus } from '@cbot-relay/messages';
import type { ListQuery, MessageRecord } from '@cbot-relay/records';
import { decodeCursor, encodeCursor } from '@cbot-relay/records';
import type { ConsoleDeps } from './console-deps.js';
import type { ConsoleSession } from './console-session.js';
import { errorText, parseTimeField, shortTime, str, timeFieldValue } from './format.js';
import type { SafeHtml } from './html.js';
import { html } from './html.js';
import { page, postButton } from './layout.js';
import { parseSearch } from './search-query.js';

const PAGE = 50;

export interface Rendered {
  status: number;
  html: string;
}

/** `/console/messages?q=…`: find messages by phone number, relay id or wamid, filtered; newest first. */
export async function messagesPage(deps: ConsoleDeps, session: ConsoleSession, req: Request): Promise<Rendered> {
  const q = str(req.query.q);
  const status = MessageStatus.safeParse(req.query.status).data;
  const caller = str(req.query.caller);
  const channel = deps.channelIds.find((c) => c === req.query.channel);
  const sinceMs = parseTimeField(req.query.since);
  const untilMs = parseTimeField(req.query.until);
  const cursor = typeof req.query.cursor === 'string' ? decodeCursor(req.query.cursor) : undefined;
  const search = parseSearch(q);
  let records: MessageRecord[] = [];
  let next: string | undefined;
  let note: string | undefined;
  const keep = (r: MessageRecord) =>
    (status === undefined || r.status === status) &&
    (caller === undefined || r.caller === caller) &&
    (channel === undefined || r.channel === channel) &&
    (sinceMs === undefined || Date.parse(r.createdAt) >= sinceMs) &&
    (untilMs === undefined || Date.parse(r.createdAt) < untilMs);
  if (search.kind === 'id' || search.kind === 'wamid') {
    const id = search.kind === 'id' ? search.id : await deps.store.byWamid(search.wamid, deps.channelIds);
    const rec = id === undefined ? undefined : await readRecord(deps, id);
    records = rec && keep(rec) ? [rec] : [];
    if (search.kind === 'wamid' && id === undefined) note = 'Not a relay id or phone number, and no message has this CBOT message id (wamid).';
  } else {
    const lq: ListQuery = { limit: PAGE };
    if (search.kind === 'phone') lq.to = search.to;
    if (status !== undefined) lq.status = status;
    if (caller !== undefined) lq.caller = caller;
    if (sinceMs !== undefined) lq.sinceMs = sinceMs;
    if (untilMs !== undefined) lq.untilMs = untilMs;
    if (cursor) lq.cursor = cursor;
    const found = await (deps.history ?? deps.store).list(lq);
    // The list's indexes are by recipient and caller; the channel is filtered on the page read.
    records = found.records.filter(keep);
    if (found.next) next = encodeCursor(found.next);
  }
  const params = (extra: Record<string, string>) => new URLSearchParams({ ...Object.fromEntries(Object.entries({ q, status, caller, channel, since: str(req.query.since), until: str(req.query.until) }).filter(([, v]) => v !== undefined) as [string, string][]), ...extra }).toString();
  const option = (value: string, label: string, selected: boolean) => html`<option value="${value}"${selected ? html` selected` : ''}>${label}</option>`;
  const body = html`
<form class="filters" method="get" action="/console/messages" role="search">
  <label for="q">Search<input id="q" name="q" type="search" value="${q ?? ''}" placeholder="phone number, relay id or wamid" size="30"></label>
  <label for="status">Status<select id="status" name="status">${option('', 'any', status === undefined)}${MessageStatus.options.map((s) => option(s, s, s === status))}</select></label>
  <label for="caller">Caller<input id="caller" name="caller" value="${caller ?? ''}" size="12"></label>
  <label for="channel">Channel<select id="channel" name="channel">${option('', 'any', channel === undefined)}${deps.channelIds.map((c) => option(c, c, c === channel))}</select></label>
  <label for="since">From (UTC)<input id="since" name="since" type="datetime-local" value="${timeFieldValue(sinceMs)}"></label>
  <label for="until">To (UTC)<input id="until" name="until" type="datetime-local" value="${timeFieldValue(untilMs)}"></label>
  <button type="submit">Search</button>
</form>
${note ? html`<p class="quiet">${note}</p>` : ''}
${messageTable(records, `${records.length === 0 ? 'No messages' : `${records.length} message${records.length === 1 ? '' : 's'}`}${search.kind === 'phone' ? ` to ${search.to}` : ''}, newest first`)}
${next ? html`<p><a href="/console/messages?${params({ cursor: next })}">Older messages</a></p>` : ''}`;
  return { status: 200, html: page({ title: 'Messages', current: '/console/messages', session, body }) };
}

export function messageTable(records: readonly MessageRecord[], caption: string, extra?: (r: MessageRecord) => SafeHtml): SafeHtml {
  return html`<div class="scroll" tabindex="0" role="region" aria-label="table, scrolls sideways"><table><caption>${caption}</caption>
<thead><tr><th scope="col">Relay id</th><th scope="col">To</th><th scope="col">Status</th><th scope="col">Caller</th><th scope="col">Channel</th><th scope="col">Accepted</th>${extra ? html`<th scope="col">Action</th>` : ''}</tr></thead>
<tbody>${records.map(
    (r) => html`<tr><td><a href="/console/messages/${r.id}">${r.id}</a></td><td>${r.to}</td><td>${r.status}</td><td>${r.caller}</td><td>${r.channel}</td><td>${shortTime(r.createdAt)}</td>${extra ? html`<td>${extra(r)}</td>` : ''}</tr>`,
  )}</tbody></table></div>`;
}

const NOTICES: Record<string, string> = {
  replayed: 'Replayed: the message is queued again.',
  'not-failed': 'Not replayed: the message is not failed.',
  'body-expired': 'Not replayed: its body is no longer kept.',
  missing: 'Not replayed: no such dead letter.',
};

/** `/console/messages/{id}`: the record, its timeline and attempts, the body behind "Show body", and what may be done. */
export async function messagePage(deps: ConsoleDeps, session: ConsoleSession, id: string, opts: { showBody?: boolean; done?: string } = {}): Promise<Rendered> {
  const rec = await readRecord(deps, id);
  if (!rec) {
    return { status: 404, html: page({ title: 'No such message', current: '/console/messages', session, body: html`<p>No message has the id ${id} (or its record has expired).</p><p><a href="/console/messages">Search messages</a></p>` }) };
  }
  const body = await deps.store.body(id);
  let bodyPart: SafeHtml;
  if (body === undefined) bodyPart = html`<p class="quiet">The body is no longer kept.</p>`;
  else if (opts.showBody) bodyPart = html`<pre>${prettyJson(body)}</pre>`;
  else bodyPart = html`<p class="quiet">Hidden (${Buffer.byteLength(body)} bytes). Showing it is logged with your name.</p>${postButton(session, `/console/messages/${id}/body`, 'Show body')}`;
  const actions = rec.status === 'failed' ? postButton(session, `/console/messages/${id}/replay`, 'Replay') : html`<p class="quiet">No action applies to a ${rec.status} message.</p>`;
  const content = html`
<dl>
  <dt>Relay id</dt><dd>${rec.id}</dd>
  <dt>Status</dt><dd>${rec.status}</dd>
  <dt>To</dt><dd><a href="/console/messages?q=${rec.to}">${rec.to}</a></dd>
  <dt>Type</dt><dd>${rec.type}</dd>
  <dt>Caller</dt><dd>${rec.caller}</dd>
  <dt>Channel</dt><dd>${rec.channel}</dd>
  <dt>Priority</dt><dd>${rec.priority}</dd>
  <dt>CBOT message id</dt><dd>${rec.cbotMessageId ?? '—'}</dd>
  <dt>Accepted</dt><dd>${shortTime(rec.createdAt)}</dd>
  <dt>Updated</dt><dd>${shortTime(rec.updatedAt)}</dd>
  ${rec.expiresAt ? html`<dt>Expires</dt><dd>${shortTime(rec.expiresAt)}</dd>` : ''}
  ${rec.error !== undefined ? html`<dt>Error</dt><dd>${errorText(rec.error)}</dd>` : ''}
</dl>
<h2>Actions</h2>
${actions}
<h2>Timeline</h2>
<div class="scroll" tabindex="0" role="region" aria-label="table, scrolls sideways"><table><thead><tr><th scope="col">Status</th><th scope="col">Recorded</th><th scope="col">CBOT time</th><th scope="col">Error</th></tr></thead>
<tbody>${rec.history.map((h) => html`<tr><td>${h.status}</td><td>${shortTime(h.at)}</td><td>${shortTime(h.cbotAt)}</td><td>${errorText(h.error)}</td></tr>`)}</tbody></table></div>
<h2>Attempts</h2>
${
  rec.attempts.length === 0
    ? html`<p class="quiet">No send attempt yet.</p>`
    : html`<div class="scroll" tabindex="0" role="region" aria-label="table, scrolls sideways"><table><thead><tr><th scope="col">At</th><th scope="col">Outcome</th><th scope="col">HTTP status</th><th scope="col">CBOT's error</th></tr></thead>
<tbody>${rec.attempts.map((a) => html`<tr><td>${shortTime(a.at)}</td><td>${a.outcome}</td><td>${a.httpStatus ?? ''}</td><td>${a.error ?? ''}</td></tr>`)}</tbody></table></div>`
}
<h2>Pricing</h2>
${
  rec.pricing
    ? html`<dl><dt>Billable</dt><dd>${rec.pricing.billable ? 'yes' : 'no'}</dd><dt>Category</dt><dd>${rec.pricing.category}</dd><dt>Type</dt><dd>${rec.pricing.type}</dd><dt>Model</dt><dd>${rec.pricing.model ?? '—'}</dd></dl>`
    : html`<p class="quiet">No status callback has carried pricing for this message yet.</p>`
}
<h2>Body</h2>
${bodyPart}`;
  const notice = opts.done === undefined ? undefined : NOTICES[opts.done];
  return { status: 200, html: page({ title: `Message ${rec.id}`, current: '/console/messages', session, body: content, ...(notice ? { notice } : {}) }) };
}

/** As GET /v1/messages/{id}: Redis, then the history store for a record past HOT_RETENTION. */
async function readRecord(deps: ConsoleDeps, id: string): Promise<MessageRecord | undefined> {
  return (await deps.store.get(id)) ?? (await deps.history?.get(id));
}

function prettyJson(s: string): string {
  try {
    return JSON.stringify(JSON.parse(s), null, 2);
  } catch {
    return s;
  }
}
