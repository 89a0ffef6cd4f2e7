import { writeFile } from 'node:fs/promises';
import type { ScenarioResult } from './scenario.js';

const HEADER = [
  'scenario', 'accepted', 'delivered', 'lost', 'dup (unexplained)', 'dup (residual)', 'out-of-order',
  'events expected', 'events delivered', 'events lost', 'event dups', 'push redeliveries', 'result',
];

/** One table row; events are counted per (event, subscriber): 2 subscribers, so expected = 2 × distinct events. */
function row(r: ScenarioResult): string[] {
  const o = r.outbound;
  const i = r.inbound;
  const n = (v: number | undefined) => (v === undefined ? '-' : String(v));
  return [
    r.name,
    n(o?.accepted),
    n(o?.delivered),
    n(o?.lost.length),
    n(o?.dupUnexplained.length),
    n(o?.dupResidual.length),
    n(o?.outOfOrderPairs),
    n(i && i.expectedKeys * 2),
    n(i && i.queue.delivered + i.http.delivered),
    n(i && i.queue.lost.length + i.http.lost.length),
    n(i && i.queue.dups.length + i.http.dups.length),
    n(i?.http.redeliveries),
    r.pass ? 'PASS' : 'FAIL',
  ];
}

export function table(results: ScenarioResult[]): string {
  const rows = [HEADER, ...results.map(row)];
  const widths = HEADER.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) => `| ${cells.map((v, c) => (c === 0 ? v.padEnd(widths[c]!) : v.padStart(widths[c]!))).join(' | ')} |`;
  return [line(HEADER), `|${widths.map((w, c) => (c === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

export const LEGEND = [
  'lost: accepted (202) but never received by CBOT. Duplicates: an extra copy is allowed only in the documented',
  'residual window of reconciliation (dup (residual)): a resend the relay counted (store.resends), sent while no',
  'status callback of an earlier copy had reached the relay. Anything else is unexplained and fails the scenario —',
  'a lost answer (dropped, client gone, dispatcher killed or frozen) excuses nothing by itself.',
  'out-of-order: adjacent pairs, per recipient, where CBOT got a later-accepted message before an earlier one.',
  'events: per (event, subscriber) over the queue and the HTTP subscriber; event dups: one CBOT message/status',
  'under two event ids (or one event run twice); push redeliveries: the same webhook-id acknowledged again',
  '(at-least-once push, e.g. a fanout killed after the subscriber answered) — allowed, reported.',
];

export async function writeResults(file: string, results: ScenarioResult[], meta: Record<string, unknown>): Promise<void> {
  await writeFile(file, `${JSON.stringify({ ...meta, results }, null, 2)}\n`);
}
