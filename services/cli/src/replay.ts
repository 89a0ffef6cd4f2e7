import type { CliContext } from './cli-context.js';
import type { ExitCode } from './cli-error.js';
import { EXIT, toCliError } from './cli-error.js';
import { ProgressLine, summary } from './progress-line.js';
import type { ReplayCounts } from './progress-line.js';

export type ReplayOutcome = 'replayed' | 'skipped' | 'failed' | 'not-found';

export interface ReplayReport extends ReplayCounts {
  /** `--all` stopped at `--limit` of a kind: run it again for the rest. */
  more: boolean;
  items: { id: string; result: ReplayOutcome; detail?: string }[];
  summary: string;
  exitCode: ExitCode;
}

type One = { result: ReplayOutcome; detail?: string };

/**
 * Replays each id once, in order, with the relay's own atomic steps (`Outbound.replay` for messages,
 * `EventDeadLetters.replay` for subscriber deliveries): each moves one dead letter out of the failed
 * state in one Redis step, so repeating a run, or two runs racing, replays nothing twice — what was
 * replayed is skipped as "not failed". A lost Redis connection stops the run (exit 4).
 */
async function replayEach(c: CliContext, ids: readonly string[], opts: { verbose: boolean; more: boolean }): Promise<ReplayReport> {
  const counts: ReplayCounts = { replayed: 0, skipped: 0, failed: 0, notFound: 0 };
  const items: ReplayReport['items'] = [];
  const progress = new ProgressLine({ out: c.io.stderr, total: ids.length, now: c.io.now });
  let stopped: ExitCode | undefined;
  for (const [i, id] of ids.entries()) {
    let one: One;
    try {
      one = await replayOne(c, id);
    } catch (err) {
      const e = toCliError(err);
      one = { result: 'failed', detail: e.message };
      if (e.exitCode === EXIT.unreachable) stopped = EXIT.unreachable;
    }
    if (one.result === 'not-found') counts.notFound += 1;
    else counts[one.result] += 1;
    items.push(one.detail === undefined ? { id, result: one.result } : { id, result: one.result, detail: one.detail });
    if (opts.verbose) c.io.stdout.write(`${id}: ${one.result}${one.detail === undefined ? '' : ` (${one.detail})`}\n`);
    else if (one.result === 'failed') c.io.stderr.write(`${id}: failed (${one.detail ?? ''})\n`);
    progress.update(i + 1, counts);
    if (stopped !== undefined) break;
  }
  progress.done();
  const exitCode: ExitCode = stopped ?? (counts.failed > 0 ? EXIT.failed : counts.notFound > 0 ? EXIT.notFound : EXIT.ok);
  const left = ids.length - items.length;
  const tail = stopped !== undefined ? ` · stopped with ${left} not tried` : opts.more ? ' · more remain: run it again' : '';
  return { ...counts, more: opts.more || left > 0, items, summary: `${summary(counts)}${tail}`, exitCode };
}

async function replayOne(c: CliContext, id: string): Promise<One> {
  if (id.startsWith('msg_')) {
    const r = await (await c.outbound()).replay(id, c.io.now());
    switch (r.kind) {
      case 'replayed':
        return { result: 'replayed' };
      case 'not-failed':
        return { result: 'skipped', detail: `message is ${r.status}, not failed` };
      case 'no-body':
        return { result: 'skipped', detail: 'the message body is no longer kept' };
      case 'missing':
        return { result: 'not-found', detail: 'no such message' };
    }
  }
  if (id.startsWith('evt_')) {
    const r = await (await c.eventDeadLetters()).replay(id);
    switch (r.kind) {
      case 'replayed':
        return { result: 'replayed' };
      case 'not-failed':
        return { result: 'skipped', detail: `the delivery is ${r.state}, not failed` };
      case 'missing':
        return { result: 'not-found', detail: 'no such dead letter (evt_….<subscriber> of a known subscriber)' };
    }
  }
  return { result: 'not-found', detail: 'not a dead letter id (msg_… or evt_….<subscriber>)' };
}

export function replayIds(c: CliContext, ids: readonly string[], opts: { verbose: boolean }): Promise<ReplayReport> {
  return replayEach(c, [...new Set(ids)], { verbose: opts.verbose, more: false });
}

/** Every dead letter of `kind` that failed at or after `sinceMs`, at most `limit` per kind: ids first, then each replayed. */
export async function replayAll(c: CliContext, kind: 'messages' | 'events' | 'all', sinceMs: number | undefined, limit: number): Promise<ReplayReport> {
  const ids: string[] = [];
  let more = false;
  if (kind !== 'events') {
    const m = await (await c.store()).deadLetterIds(sinceMs, limit);
    // Oldest failure first: a recipient's messages go back on its queue in the order they failed,
    // which is the order they were accepted (one recipient's messages are sent, and fail, in order).
    ids.push(...m.ids.reverse());
    more ||= m.more;
  }
  if (kind !== 'messages') {
    const e = await (await c.eventDeadLetters()).failedIds(sinceMs, limit);
    ids.push(...e.ids);
    more ||= e.more;
  }
  return replayEach(c, ids, { verbose: false, more });
}
