import type { ConsoleDeps } from './console-deps.js';
import type { ConsoleSession } from './console-session.js';
import { alertChecks } from './alerts.js';
import { seconds, shortTime } from './format.js';
import type { SafeHtml } from './html.js';
import { html } from './html.js';
import { page } from './layout.js';
import type { Rendered } from './messages-page.js';

/** `/console`: the last hour per minute (the relay's own counters) and what would alert now. */
export async function overviewPage(deps: ConsoleDeps, session: ConsoleSession): Promise<Rendered> {
  const now = deps.now();
  const [rows, oldestMs, dead15, subscribers, channels] = await Promise.all([
    deps.counters.recent(now, 60),
    deps.outbound.oldestOpenAgeMs(now),
    deps.store.deadLetterIds(now - 15 * 60_000, 1000),
    deps.subscribers(),
    deps.channels(),
  ]);
  const checks = alertChecks({
    oldestOpenAgeS: oldestMs / 1000,
    deadLetters15m: dead15.ids.length,
    ...(deps.webhookRegistered ? { webhookRegistered: deps.webhookRegistered() } : {}),
    subscribers: subscribers.map((s) => ({ name: s.name, oldestWaitingAgeS: s.oldestWaitingMs / 1000, deadLetters15m: s.failed15m })),
    channels: channels.map((c) => ({ id: c.id, pausedForS: c.pausedForMs / 1000 })),
  });
  const total = rows.reduce((a, r) => ({ accepted: a.accepted + r.accepted, sent: a.sent + r.sent, failed: a.failed + r.failed }), { accepted: 0, sent: 0, failed: 0 });
  const runbook = (anchor: string | undefined): SafeHtml | string => {
    if (anchor === undefined) return '—';
    const ref = `docs/operations.md#${anchor}`;
    return deps.runbookUrl ? html`<a href="${deps.runbookUrl}#${anchor}">${ref}</a>` : html`<code>${ref}</code>`;
  };
  const firing = checks.filter((c) => c.firing).length;
  const body = html`
<h2>What would alert now</h2>
<p>${firing === 0 ? 'Nothing would alert now.' : `${firing} condition${firing === 1 ? '' : 's'} would alert now.`}</p>
<div class="scroll" tabindex="0" role="region" aria-label="table, scrolls sideways"><table><thead><tr><th scope="col">Rule</th><th scope="col">State</th><th scope="col">Severity</th><th scope="col">Now</th><th scope="col">Runbook</th></tr></thead>
<tbody>${checks.map((c) => html`<tr><td>${c.name}</td><td class="${c.firing ? 'firing' : 'quiet'}">${c.firing ? 'firing' : 'ok'}</td><td>${c.severity}</td><td>${c.detail}</td><td>${runbook(c.runbook)}</td></tr>`)}</tbody></table></div>
<h2>The last hour</h2>
<p>Accepted ${total.accepted}, sent ${total.sent}, failed ${total.failed} (per minute below, newest first).</p>
${chart(rows)}
<details><summary>Per minute</summary><div class="scroll" tabindex="0" role="region" aria-label="table, scrolls sideways"><table><thead><tr><th scope="col">Minute (UTC)</th><th scope="col">Accepted</th><th scope="col">Sent</th><th scope="col">Failed</th></tr></thead>
<tbody>${[...rows].reverse().map((r) => html`<tr><td>${shortTime(r.atMs).slice(11, 16)}</td><td>${r.accepted}</td><td>${r.sent}</td><td>${r.failed}</td></tr>`)}</tbody></table></div></details>`;
  return { status: 200, html: page({ title: 'Overview', current: '/console', session, body }) };
}

/** Three bars a minute, scaled to the busiest minute; drawn with SVG attributes (no script, no inline style). */
function chart(rows: { accepted: number; sent: number; failed: number }[]): SafeHtml {
  const max = Math.max(1, ...rows.flatMap((r) => [r.accepted, r.sent, r.failed]));
  const h = (n: number) => (n / max) * 100;
  const bars = rows.flatMap((r, i) => [
    html`<rect class="accepted" x="${i * 10}" y="${100 - h(r.accepted)}" width="3" height="${h(r.accepted)}"></rect>`,
    html`<rect class="sent" x="${i * 10 + 3}" y="${100 - h(r.sent)}" width="3" height="${h(r.sent)}"></rect>`,
    html`<rect class="failed" x="${i * 10 + 6}" y="${100 - h(r.failed)}" width="3" height="${h(r.failed)}"></rect>`,
  ]);
  return html`<svg class="chart" viewBox="0 0 600 100" preserveAspectRatio="none" role="img" aria-label="Accepted, sent and failed per minute over the last hour; busiest minute ${max}">${bars}</svg>
<p class="legend"><span class="accepted">■ accepted</span><span class="sent">■ sent</span><span class="failed">■ failed</span> — the tallest bar is ${max} a minute.</p>`;
}

/** `/console/channels`: each CBOT channel's rate, backlog and pause. */
export async function channelsPage(deps: ConsoleDeps, session: ConsoleSession): Promise<Rendered> {
  const channels = await deps.channels();
  const body = html`<div class="scroll" tabindex="0" role="region" aria-label="table, scrolls sideways"><table><thead><tr><th scope="col">Channel</th><th scope="col">State</th><th scope="col">Reason</th><th scope="col">Until</th><th scope="col">Rate</th><th scope="col">Backlog</th></tr></thead>
<tbody>${channels.map(
    (c) =>
      html`<tr><td>${c.id}</td><td>${c.pausedForMs > 0 ? 'paused' : 'sending'}</td><td>${c.pausedForMs > 0 ? 'CBOT asked to slow down (throttled)' : ''}</td><td>${
        c.pausedForMs > 0 ? shortTime(deps.now() + c.pausedForMs) : ''
      }</td><td>${c.ratePerSecond}/s</td><td>${c.queued}</td></tr>`,
  )}</tbody></table></div>
<p class="quiet">Quality ratings and operator pause and resume are not in this relay yet.</p>`;
  return { status: 200, html: page({ title: 'Channels', current: '/console/channels', session, body }) };
}

/** `/console/subscribers`: each subscriber's lag, failures and last error. */
export async function subscribersPage(deps: ConsoleDeps, session: ConsoleSession): Promise<Rendered> {
  const subs = await deps.subscribers();
  const body =
    subs.length === 0
      ? html`<p>No subscribers.</p>`
      : html`<div class="scroll" tabindex="0" role="region" aria-label="table, scrolls sideways"><table><thead><tr><th scope="col">Subscriber</th><th scope="col">Kind</th><th scope="col">Enabled</th><th scope="col">Waiting</th><th scope="col">Lag</th><th scope="col">Failures</th><th scope="col">Last error</th></tr></thead>
<tbody>${subs.map(
          (s) =>
            html`<tr><td>${s.name}</td><td>${s.kind}</td><td>${s.enabled ? 'yes' : 'no'}</td><td>${s.waiting}</td><td>${s.waiting > 0 ? seconds(s.oldestWaitingMs) : '0 s'}</td><td>${s.failed}${
              s.failed > 0 ? html` (<a href="/console/dead-letters">dead letters</a>)` : ''
            }</td><td>${s.lastError ? `${shortTime(s.lastError.at)} ${s.lastError.reason}` : ''}</td></tr>`,
        )}</tbody></table></div>`;
  return { status: 200, html: page({ title: 'Subscribers', current: '/console/subscribers', session, body }) };
}
