import { setTimeout as sleep } from 'node:timers/promises';
import type { SimKnobs } from '@cbot-relay/cbot-sim';
import { countInbound, countOutbound, outboundFailures } from './accounting.js';
import type { InboundCounts, OutboundCounts } from './accounting.js';
import { API_KEY, Cluster } from './cluster.js';
import { drain } from './drain.js';
import type { DrainResult } from './drain.js';
import { InboundDriver } from './inbound-driver.js';
import { LoadDriver } from './load-driver.js';
import type { Role } from './relay-env.js';
import { RelayQueues } from './relay-queues.js';
import { ScheduleDriver, countSchedule, scheduleFailures } from './schedule-driver.js';
import type { ScheduleCounts } from './schedule-driver.js';
import { Teardown } from './teardown.js';

export interface ScenarioContext {
  cluster: Cluster;
  load: LoadDriver;
  /** A progress line on stdout, prefixed with the scenario name and elapsed seconds. */
  log(line: string): void;
  /** Marks the scenario failed for a reason other than the counts. */
  fail(why: string): void;
  note(line: string): void;
}

export interface Scenario {
  name: string;
  /** What is injected, for the report. */
  fault: string;
  knobs?: Partial<SimKnobs>;
  env?: Partial<Record<Role, Record<string, string>>>;
  /** OUTBOUND_PARTITIONS for every relay process (default unset: one partition). */
  partitions?: number;
  /** Outbound load: messages per second over `recipients` strictly sequential callers. */
  ratePerS: number;
  recipients: number;
  /**
   * Scheduled messages in the mix (X-Relay-Send-At, 1.5–4 s ahead, to the load's recipients) and a
   * tagged campaign due 12–37 s after the start, canceled by tag `cancelAfterMs` after the start.
   */
  schedule?: { ratePerS: number; campaign: number; cancelAfterMs: number };
  /** Inbound customer messages per second (status callbacks of sent messages come on top). */
  inboundPerS: number;
  drainTimeoutMs: number;
  /** Injects the faults while the load runs; when it resolves the load stops and the drain begins. */
  inject(ctx: ScenarioContext): Promise<void>;
  /** Runs after the load stopped, before the drain (e.g. redelivering the last callbacks). */
  afterLoad?(ctx: ScenarioContext): Promise<void>;
  /** Extra checks once drained, before the cluster stops. */
  verify?(ctx: ScenarioContext): Promise<void>;
}

export interface ScenarioResult {
  name: string;
  fault: string;
  pass: boolean;
  failures: string[];
  notes: string[];
  seconds: number;
  drain?: DrainResult;
  outbound?: OutboundCounts;
  inbound?: InboundCounts;
  schedule?: ScheduleCounts;
  relayJobs?: { failed: number; byQueue: Record<string, { open: number; failed: number }> };
  clientRetries?: Record<string, number>;
  /** Warn/error lines of the relay processes (the evidence when something failed). */
  problems?: string[];
}

/**
 * One scenario end to end on a fresh Redis, simulator and set of processes: start, drive load and
 * inbound callbacks, inject, drain, count, check the bars, stop everything (also on error).
 */
export async function runScenario(s: Scenario, registerTeardown: (td: Teardown | undefined) => void): Promise<ScenarioResult> {
  const t0 = Date.now();
  const td = new Teardown();
  registerTeardown(td);
  const result: ScenarioResult = { name: s.name, fault: s.fault, pass: false, failures: [], notes: [], seconds: 0 };
  const log = (line: string) => console.log(`[${s.name} +${((Date.now() - t0) / 1000).toFixed(0)}s] ${line}`);
  let cluster: Cluster | undefined;
  try {
    log('starting redis, simulator, subscribers, ingress, 2 dispatchers, 2 fanouts');
    cluster = await Cluster.start({ td, name: s.name, ...(s.knobs ? { knobs: s.knobs } : {}), ...(s.env ? { env: s.env } : {}), ...(s.partitions ? { partitions: s.partitions } : {}) });
    const queues = td.add('queue handles', new RelayQueues(cluster.client, cluster.prefix), (q) => q.close());
    const load = new LoadDriver({ baseUrl: cluster.ingressUrl, apiKey: API_KEY, recipients: s.recipients, ratePerS: s.ratePerS });
    const inbound = new InboundDriver(cluster.sim, s.inboundPerS);
    td.add('load', load, (l) => l.stop());
    td.add('inbound', inbound, (i) => i.stop());
    const ctx: ScenarioContext = {
      cluster, load, log,
      fail: (why) => result.failures.push(why),
      note: (line) => result.notes.push(line),
    };
    log(`load: ${s.ratePerS} msg/s over ${s.recipients} recipients, ${s.inboundPerS} inbound/s`);
    const sched = s.schedule ? new ScheduleDriver({ baseUrl: cluster.ingressUrl, apiKey: API_KEY, recipients: s.recipients, ...s.schedule }) : undefined;
    if (sched) td.add('schedule', sched, (d) => d.stop());
    load.start();
    inbound.start();
    let canceling: Promise<unknown> = Promise.resolve();
    if (sched && s.schedule) {
      const startedAt = await sched.start();
      log(`schedule: ${s.schedule.ratePerS} scheduled msg/s, a campaign of ${sched.campaign.length} (due from +12 s) canceled by tag at +${s.schedule.cancelAfterMs / 1000} s`);
      canceling = sleep(Math.max(0, startedAt + s.schedule.cancelAfterMs - Date.now())).then(async () => {
        const answer = await sched.cancelCampaign();
        log(`campaign canceled: ${answer.canceled} of ${sched.campaign.length}`);
      });
    }
    await s.inject(ctx);
    await canceling;
    await Promise.all([load.stop(), inbound.stop(), sched?.stop()]);
    if (s.afterLoad) await s.afterLoad(ctx);
    log(`load stopped: ${load.acceptedCount} accepted; draining (≤ ${s.drainTimeoutMs / 1000} s)`);
    const scheduledPending = () => {
      if (!sched) return [];
      const got = new Set(cluster!.sim.received().map((m) => (m.body.text as { body?: unknown } | undefined)?.body));
      const missing = sched.scheduled.filter((x) => !got.has(x.text)).length;
      return missing > 0 ? [`${missing} scheduled messages not at CBOT yet`] : [];
    };
    result.drain = await drain(cluster, load, queues, s.drainTimeoutMs, 2_000, scheduledPending);
    log(result.drain.drained ? `drained in ${(result.drain.ms / 1000).toFixed(1)} s` : `NOT drained: ${result.drain.pending.join('; ')}`);
    if (s.verify) await s.verify(ctx);
    result.outbound = await countOutbound(load.accepted, cluster.sim, cluster.store);
    result.inbound = countInbound(cluster.sim, cluster.subscriber, cluster.receiver);
    if (sched) {
      result.schedule = await countSchedule(sched, cluster.sim.received(), cluster.store);
      result.failures.push(...scheduleFailures(result.schedule, sched.failures));
      const c = result.schedule;
      result.notes.push(
        `scheduled: ${c.scheduled} sent after their time (late p50 ${c.lateMs.p50} ms, p99 ${c.lateMs.p99} ms, max ${c.lateMs.max} ms); ` +
          `campaign: ${c.canceledRecords} of ${c.campaign} canceled, none sent; ${c.campaign - c.canceledRecords} were already sending, ${c.sentAfterAnswer} of them reached CBOT after the answer (in flight)`,
      );
    }
    const jobs = await queues.counts();
    result.relayJobs = { failed: jobs.failed, byQueue: jobs.byQueue };
    result.clientRetries = Object.fromEntries(load.retries);
    for (const crash of cluster.crashed()) result.failures.push(`relay process crashed: ${crash}`);
    judge(result, load);
  } catch (err) {
    result.failures.push(`scenario error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  } finally {
    if (cluster) result.problems = cluster.problems();
    await td.run();
    registerTeardown(undefined);
    result.seconds = Math.round((Date.now() - t0) / 1000);
  }
  result.pass = result.failures.length === 0;
  log(`${result.pass ? 'PASS' : 'FAIL'} in ${result.seconds} s${result.pass ? '' : `: ${result.failures.map((f) => f.split('\n')[0]).join(' | ')}`}`);
  return result;
}

/** The bars of the issue: 0 lost, 0 unexplained duplicates, 0 out of order, for messages and events. */
function judge(r: ScenarioResult, load: LoadDriver): void {
  const o = r.outbound!;
  const i = r.inbound!;
  const bar = (ok: boolean, why: string) => ok || r.failures.push(why);
  r.failures.push(...outboundFailures(o));
  for (const [name, ch] of [['queue', i.queue], ['http', i.http]] as const) {
    bar(ch.lost.length === 0, `${ch.lost.length} events lost at the ${name} subscriber, e.g. ${ch.lost.slice(0, 5).join(', ')}`);
    bar(ch.dups.length === 0, `${ch.dups.length} duplicate events at the ${name} subscriber, e.g. ${ch.dups.slice(0, 5).join(', ')}`);
  }
  bar(i.badSignatures === 0, `${i.badSignatures} pushes failed Standard Webhooks verification`);
  bar(i.unparsable === 0, `${i.unparsable} deliveries were not recognisable relay events`);
  bar(load.abandoned.length === 0, `${load.abandoned.length} sends never got a 202 within the client's patience, e.g. ${load.abandoned.slice(0, 3).join(', ')}`);
  bar(load.rejected.length === 0, `${load.rejected.length} sends refused outright, e.g. ${load.rejected.slice(0, 3).join(' | ')}`);
  bar(r.drain?.drained === true, `not drained in time: ${r.drain?.pending.join('; ')}`);
  if (i.statusCallbacksSkipped > 0) r.notes.push(`simulator skipped ${i.statusCallbacksSkipped} status callbacks (webhook too slow)`);
  if (o.answersLost.dropped + o.answersLost.clientGone > 0) {
    r.notes.push(`CBOT saw ${o.answersLost.dropped} answers dropped and ${o.answersLost.clientGone} clients hang up before the answer; the relay counted ${o.relayAmbiguousResends} resends`);
  }
  if (o.dupResidual.length > 0) r.notes.push(`${o.dupResidual.length} duplicates in the documented residual window (no status of the first copy reached the relay within RECONCILE_WINDOW_S), e.g. ${o.dupResidual.slice(0, 3).join('; ')}`);
  if (o.extra > 0) r.notes.push(`${o.extra} messages sent that the caller never saw a 202 for (caller gave up; allowed)`);
}
