import { startCbotSim } from '@cbot-relay/cbot-sim';
import type { CbotSim } from '@cbot-relay/cbot-sim';
import { RelayProcess, freePort, startTestRedis, uniquePrefix } from '@cbot-relay/testing';
import type { TestRedis } from '@cbot-relay/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALERTS_FILE, DASHBOARD_FILE, dashboardTargets, metricNames, readDeployFile, ruleExpressions } from './promql.js';

/**
 * Names the rules and the dashboard may use although this relay's /metrics does not show them.
 * Keep this tiny: every other name must come from the relay itself.
 */
const PROVIDED_ELSEWHERE = new Set([
  // Prometheus' own per-target scrape health.
  'up',
  // The ingress's callback-registration gauge, added with webhook registration (issue 10, another
  // change); harmless once it is in the relay's exposition too.
  'relay_webhook_registered',
]);

/** The series names a Prometheus text exposition can hold, from its `# TYPE` lines. */
function exposedSeries(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (name === undefined) continue;
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
    else if (type === 'summary') for (const s of ['', '_sum', '_count']) names.add(name + s);
    else names.add(name);
  }
  return names;
}

const alerts = ruleExpressions(readDeployFile(ALERTS_FILE));
const dashboard = JSON.parse(readDeployFile(DASHBOARD_FILE)) as {
  panels?: never[];
  templating: { list: { name: string }[] };
};
const targets = dashboardTargets(dashboard);

describe('metricNames (the extractor the checks below rely on)', () => {
  it('keeps metric names and drops functions, keywords, labels, ranges, variables and numbers', () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (le, priority) (rate(a_bucket{job="x", role=~"$role"}[$__rate_interval]))) ' +
          '/ on (instance) group_left (role) b_total offset 5m > bool 0.1 and c unless max without (caller) (d{reason=~"x|y"})',
      ),
    ).toEqual(['a_bucket', 'b_total', 'c', 'd']);
  });
});

describe('the metrics deploy/ uses exist in the relay', () => {
  let redis: TestRedis;
  let sim: CbotSim;
  let relay: RelayProcess;
  let exposed: Set<string>;

  beforeAll(async () => {
    redis = await startTestRedis();
    sim = await startCbotSim({ apiKey: 'deploy-cbot-key', knobs: { statusCallbacks: false } });
    const opsPort = await freePort();
    // Every role in one process: one /metrics shows every metric the relay registers.
    relay = await RelayProcess.start({
      env: {
        REDIS_URL: redis.url,
        QUEUE_PREFIX: uniquePrefix('deploy'),
        HOST: '127.0.0.1',
        PORT: String(await freePort()),
        OPS_PORT: String(opsPort),
        CBOT_BASE_URL: sim.url,
        CBOT_API_KEY: 'deploy-cbot-key',
      },
    });
    exposed = exposedSeries(await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text());
  });

  afterAll(async () => {
    await relay?.stop();
    await sim?.close();
    await redis?.close();
  });

  it('exposes the families this test reads (the exposition parsed as intended)', () => {
    for (const n of ['relay_messages_sent_total', 'relay_cbot_send_seconds_bucket', 'relay_outbound_pending', 'process_cpu_seconds_total']) {
      expect(exposed).toContain(n);
    }
  });

  it('every metric an alert rule selects', () => {
    const unknown = alerts.flatMap(({ name, expr }) =>
      metricNames(expr)
        .filter((m) => !exposed.has(m) && !PROVIDED_ELSEWHERE.has(m))
        .map((m) => `${name}: ${m}`),
    );
    expect(unknown).toEqual([]);
  });

  it('every metric a dashboard panel queries', () => {
    const unknown = targets.flatMap(({ panel, expr }) =>
      metricNames(expr)
        .filter((m) => !exposed.has(m) && !PROVIDED_ELSEWHERE.has(m))
        .map((m) => `${panel}: ${m}`),
    );
    expect(unknown).toEqual([]);
  });

  it('the dashboard shows every relay_ metric (a new metric needs a panel)', () => {
    const shown = new Set(targets.flatMap(({ expr }) => metricNames(expr)));
    const families = [...exposed].filter((n) => n.startsWith('relay_')).map((n) => n.replace(/_(bucket|sum|count)$/, ''));
    const missing = [...new Set(families)].filter((f) => ![...shown].some((s) => s === f || s.startsWith(`${f}_`)));
    expect(missing).toEqual([]);
  });
});

describe('the dashboard', () => {
  it('has role and instance variables, and every query filters by both', () => {
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(expect.arrayContaining(['role', 'instance']));
    const unfiltered = targets.filter(({ expr }) => {
      const selectors = metricNames(expr).length;
      const roles = expr.match(/role=~"\$role"/g)?.length ?? 0;
      const instances = expr.match(/instance=~"\$instance"/g)?.length ?? 0;
      return roles < selectors || instances < selectors;
    });
    expect(unfiltered.map((t) => t.panel)).toEqual([]);
  });
});
