import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALERTS_FILE, DASHBOARD_FILE, DEPLOY, dashboardTargets, readDeployFile, withoutGrafanaVariables } from './promql.js';

// promtool comes with Prometheus (Debian: `apt-get install prometheus`); .ci/run installs it. Under
// CI its absence is a failure, locally the checks are skipped with a note.
const found = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;
const ci = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
const MISSING = 'promtool not on PATH (apt-get install prometheus; .ci/run installs it)';
if (!found && !ci) console.warn(`test/deploy/promtool.test.ts: skipped: ${MISSING}`);

function promtool(...args: string[]): string {
  if (!found) throw new Error(MISSING);
  const r = spawnSync('promtool', args, { cwd: DEPLOY, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`promtool ${args.join(' ')} failed:\n${r.stdout}${r.stderr}`);
  return r.stdout + r.stderr;
}

describe.skipIf(!found && !ci)(found || ci ? 'deploy/ under promtool' : `deploy/ under promtool (skipped: ${MISSING})`, () => {
  it('accepts the alert rules', () => {
    expect(promtool('check', 'rules', ALERTS_FILE)).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('passes the alerts unit tests (each alert fires when it should and not otherwise)', () => {
    expect(promtool('test', 'rules', 'prometheus/alerts.test.yml')).toContain('SUCCESS');
  });

  it('accepts the example scrape configuration and the rule files it loads', () => {
    expect(promtool('check', 'config', 'prometheus/prometheus.yml')).toContain('is valid prometheus config file syntax');
  });

  it('parses every dashboard query as PromQL', () => {
    // A rules file is how promtool parses arbitrary expressions offline; JSON is YAML.
    const targets = dashboardTargets(JSON.parse(readDeployFile(DASHBOARD_FILE)) as object);
    const rules = targets.map((t, i) => ({ record: `dashboard:query_${i}`, expr: withoutGrafanaVariables(t.expr) }));
    const dir = mkdtempSync(join(tmpdir(), 'cbot-relay-dashboard-'));
    try {
      const file = join(dir, 'dashboard-queries.yml');
      writeFileSync(file, JSON.stringify({ groups: [{ name: 'dashboard', rules }] }));
      expect(promtool('check', 'rules', file)).toContain(`SUCCESS: ${rules.length} rules found`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a broken rule (the check can fail)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cbot-relay-rules-'));
    try {
      const file = join(dir, 'bad.yml');
      writeFileSync(file, 'groups:\n  - name: bad\n    rules:\n      - alert: Bad\n        expr: sum(rate(relay_messages_sent_total[5m]) > \n');
      expect(() => promtool('check', 'rules', file)).toThrow(/promtool check rules .* failed/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

