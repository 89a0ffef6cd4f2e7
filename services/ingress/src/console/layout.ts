import type { SafeHtml } from './html.js';
import { html } from './html.js';
import type { ConsoleSession } from './console-session.js';

/**
 * Only this origin's stylesheet; no script at all (the console works by links and forms), no
 * framing; forms post only back here.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'none'",
  "style-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const NAV = [
  ['/console', 'Overview'],
  ['/console/messages', 'Messages'],
  ['/console/dead-letters', 'Dead letters'],
  ['/console/channels', 'Channels'],
  ['/console/subscribers', 'Subscribers'],
] as const;

/** A hidden CSRF field: every form that posts carries one. */
export const csrfField = (s: ConsoleSession) => html`<input type="hidden" name="csrf" value="${s.csrf}">`;

/** A form with one button that posts to `action`. */
export function postButton(s: ConsoleSession, action: string, label: string, hidden: Record<string, string> = {}): SafeHtml {
  return html`<form class="inline" method="post" action="${action}">${csrfField(s)}${Object.entries(hidden).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}<button type="submit">${label}</button></form>`;
}

export function page(opts: { title: string; current: string; session?: ConsoleSession; body: SafeHtml; notice?: string; error?: string }): string {
  const nav = opts.session
    ? html`<header><nav aria-label="Console"><ul>${NAV.map(
        ([href, label]) => html`<li><a href="${href}"${href === opts.current ? html` aria-current="page"` : ''}>${label}</a></li>`,
      )}</ul><div class="who">${opts.session.admin} ${postButton(opts.session, '/console/logout', 'Sign out')}</div></nav></header>`
    : '';
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${opts.title} · cbot-relay console</title><link rel="stylesheet" href="/console/static/console.css"><link rel="icon" href="/console/static/icon.svg" type="image/svg+xml"></head>
<body>${nav}<main><h1>${opts.title}</h1>${opts.notice ? html`<p class="notice" role="status">${opts.notice}</p>` : ''}${
    opts.error ? html`<p class="error" role="alert">${opts.error}</p>` : ''
  }${opts.body}</main></body></html>`.text;
}

export const CONSOLE_CSS = `
:root { color-scheme: light dark; --fg: #1b1f24; --bg: #fff; --muted: #59636e; --line: #d0d7de; --accent: #0550ae; --bad: #a40e26; --ok: #116329; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --muted: #9198a1; --line: #3d444d; --accent: #4493f8; --bad: #ff7b72; --ok: #3fb950; } }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header { border-bottom: 1px solid var(--line); padding: .5rem 1rem; }
nav { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; justify-content: space-between; }
nav ul { list-style: none; display: flex; flex-wrap: wrap; gap: .25rem 1rem; margin: 0; padding: 0; }
nav a { color: var(--accent); }
nav a[aria-current="page"] { font-weight: 700; color: var(--fg); }
.who { color: var(--muted); }
main { padding: 1rem; max-width: 72rem; margin: 0 auto; }
h1 { font-size: 1.5rem; margin: .25rem 0 1rem; overflow-wrap: anywhere; }
h2 { font-size: 1.2rem; margin: 1.5rem 0 .5rem; }
a { color: var(--accent); }
table { border-collapse: collapse; width: 100%; font-size: .95rem; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { white-space: nowrap; }
caption { text-align: left; color: var(--muted); padding: .25rem 0; }
td { overflow-wrap: break-word; min-width: 4rem; }
td code, td a { overflow-wrap: anywhere; }
.scroll { overflow-x: auto; }
form.filters { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: flex-end; margin-bottom: 1rem; }
form.filters label, form.login label { display: flex; flex-direction: column; font-size: .9rem; color: var(--muted); }
input, select, button { font: inherit; padding: .35rem .5rem; border: 1px solid var(--line); border-radius: 4px; background: var(--bg); color: var(--fg); }
button { cursor: pointer; border-color: var(--accent); color: var(--accent); }
form.inline { display: inline; }
form.login { display: flex; flex-direction: column; gap: .75rem; max-width: 22rem; }
.notice { border-left: 4px solid var(--ok); padding: .5rem; }
.error { border-left: 4px solid var(--bad); padding: .5rem; color: var(--bad); }
.firing { color: var(--bad); font-weight: 700; }
.quiet { color: var(--muted); }
pre { white-space: pre-wrap; overflow-wrap: anywhere; border: 1px solid var(--line); padding: .5rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
dt { color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; }
svg.chart { width: 100%; height: 8rem; border: 1px solid var(--line); }
svg.chart .accepted { fill: var(--accent); }
svg.chart .sent { fill: var(--ok); }
svg.chart .failed { fill: var(--bad); }
.legend span { margin-right: 1rem; }
.legend .accepted { color: var(--accent); } .legend .sent { color: var(--ok); } .legend .failed { color: var(--bad); }
`;

/** The tab's icon (without one, a browser asks for /favicon.ico and logs the 404). */
export const CONSOLE_ICON = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#0550ae"/><path d="M4 8h8M9 5l3 3-3 3" stroke="#fff" stroke-width="1.8" fill="none"/></svg>';
