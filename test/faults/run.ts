import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LEGEND, table, writeResults } from './report.js';
import { runScenario } from './scenario.js';
import type { Scenario, ScenarioResult } from './scenario.js';
import { callbackRedelivery } from './scenarios/callback-redelivery.js';
import { cbotOutage } from './scenarios/cbot-outage.js';
import { dispatcherChurn } from './scenarios/dispatcher-churn.js';
import { dispatcherFreeze } from './scenarios/dispatcher-freeze.js';
import { dispatcherSigkill } from './scenarios/dispatcher-sigkill.js';
import { fanoutSigkill } from './scenarios/fanout-sigkill.js';
import { redisMaxmemory } from './scenarios/redis-maxmemory.js';
import { redisRestart } from './scenarios/redis-restart.js';
import { sigterm } from './scenarios/sigterm.js';
import { subscriberTimeout } from './scenarios/subscriber-timeout.js';
import type { Teardown } from './teardown.js';

/**
 * The budget on a 2-core machine; past this everything is stopped and the run fails. 15 min (was 12)
 * since dispatcher-freeze and redis-maxmemory joined (~1 min each) and a killed dispatcher's unsent
 * claims now drain one RECONCILE_WINDOW_S (30 s) later.
 */
const DEADLINE_MS = 15 * 60_000;
const RESULTS_FILE = fileURLToPath(new URL('./results.json', import.meta.url));

/** Outbound faults first, then inbound; each scenario gets a fresh Redis, simulator and processes. */
const ALL: Scenario[] = [
  dispatcherSigkill, dispatcherChurn, dispatcherFreeze, redisRestart, redisMaxmemory, cbotOutage, sigterm,
  fanoutSigkill, callbackRedelivery(), subscriberTimeout,
];

const started = Date.now();
const results: ScenarioResult[] = [];

async function main(): Promise<number> {
  // The relay processes run compiled (cluster.ts): bring dist/ up to date first (incremental, seconds when it is).
  const built = Date.now();
  execFileSync(process.execPath, [fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url)), '-b', 'tsconfig.build.json'], {
    cwd: fileURLToPath(new URL('../../', import.meta.url)),
    stdio: 'inherit',
  });
  console.log(`faults: relay compiled in ${((Date.now() - built) / 1000).toFixed(1)} s`);
  // FAULTS_ONLY=a,b runs a subset (the names in the table), for working on one scenario.
  const only = process.env.FAULTS_ONLY?.split(',').map((s) => s.trim()).filter(Boolean);
  const chosen = only ? ALL.filter((s) => only.includes(s.name)) : ALL;
  if (chosen.length === 0) throw new Error(`FAULTS_ONLY matches no scenario (known: ${ALL.map((s) => s.name).join(', ')})`);

  let current: Teardown | undefined;
  let running: Scenario | undefined;
  let bailed = false;
  const bail = (why: string, code: number) => {
    if (bailed) process.exit(code);
    bailed = true;
    console.error(`\nfaults: ${why}; stopping everything the suite started`);
    void (current?.run() ?? Promise.resolve())
      .then(() => {
        if (running) results.push({ name: running.name, fault: running.fault, pass: false, failures: [why], notes: [], seconds: 0 });
        return report(chosen);
      })
      .finally(() => process.exit(code));
  };
  process.on('SIGINT', () => bail('interrupted', 130));
  process.on('SIGTERM', () => bail('terminated', 143));
  setTimeout(() => bail(`over the ${DEADLINE_MS / 60_000} min deadline`, 1), DEADLINE_MS).unref();

  for (const s of chosen) {
    console.log(`\n=== ${s.name}: ${s.fault}`);
    running = s;
    const r = await runScenario(s, (td) => (current = td));
    running = undefined;
    results.push(r);
  }
  return (await report(chosen)) ? 0 : 1;
}

/** Prints the table, the notes and each failure's evidence, writes results.json; true when all passed. */
async function report(chosen: Scenario[]): Promise<boolean> {
  const wallS = Math.round((Date.now() - started) / 1000);
  console.log(`\n${table(results)}\n\n${LEGEND.join('\n')}\n`);
  for (const r of results) {
    for (const n of r.notes) console.log(`${r.name}: ${n}`);
  }
  for (const r of results.filter((x) => !x.pass)) {
    console.log(`\n${r.name} FAILED:\n  ${r.failures.join('\n  ')}`);
    if (r.problems?.length) console.log(`  relay warnings/errors (last ${r.problems.length}):\n    ${r.problems.join('\n    ')}`);
  }
  await writeResults(RESULTS_FILE, results, {
    startedAt: new Date(started).toISOString(), wallSeconds: wallS, scenarios: chosen.map((s) => s.name),
  });
  const failed = results.filter((r) => !r.pass).length;
  const missing = chosen.length - results.length;
  console.log(`\nfault suite: ${results.length - failed}/${chosen.length} scenarios passed${missing ? ` (${missing} not run)` : ''} in ${wallS} s; details in ${RESULTS_FILE}`);
  return failed === 0 && missing === 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`faults: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
