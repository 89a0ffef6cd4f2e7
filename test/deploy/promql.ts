import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '@cbot-relay/testing';

export const DEPLOY = join(REPO_ROOT, 'deploy');
export const ALERTS_FILE = join(DEPLOY, 'prometheus/alerts.yml');
export const DASHBOARD_FILE = join(DEPLOY, 'grafana/cbot-relay.json');

// Words of PromQL that look like metric names: operators, modifiers, grouping keywords, constants.
const KEYWORDS = new Set([
  'and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'atan2', 'inf', 'nan',
]);

/**
 * The metric names a PromQL expression selects. Not a parser: it removes what cannot hold a metric
 * name (strings, label matchers, ranges, grouping label lists, Grafana variables, durations, numbers) and keeps
 * the identifiers that are not function calls or keywords. Enough for the expressions we write;
 * its own test below pins what it does.
 */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^{}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ')
    .replace(/\b(\d+(ms|[smhdwy]))+\b/g, ' ')
    .replace(/\b\d+(\.\d+)?(e[+-]?\d+)?\b/gi, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const after = stripped.slice((m.index ?? 0) + m[0].length).trimStart();
    if (after.startsWith('(') || KEYWORDS.has(m[0].toLowerCase())) continue;
    names.add(m[0]);
  }
  return [...names].sort();
}

/**
 * The `expr` of every rule in a rules file as written in alerts.yml: `expr: <one line>` or
 * `expr: |` with the expression indented below. Fails loudly when the count differs from the
 * number of rules, so a form it does not read cannot hide an expression from the check.
 */
export function ruleExpressions(yamlText: string): { name: string; expr: string }[] {
  const lines = yamlText.split('\n');
  const out: { name: string; expr: string }[] = [];
  let name = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const rule = /^\s*- (?:alert|record): (\S+)/.exec(line);
    if (rule) name = rule[1] ?? '';
    const m = /^(\s*)expr: (.*)$/.exec(line);
    if (!m) continue;
    if ((m[2] ?? '').trim() !== '|') {
      out.push({ name, expr: m[2] ?? '' });
      continue;
    }
    const indent = (m[1] ?? '').length;
    const body: string[] = [];
    while (i + 1 < lines.length && (/^\s*$/.test(lines[i + 1] ?? '') || /^\s*/.exec(lines[i + 1] ?? '')![0].length > indent)) {
      body.push(lines[++i] ?? '');
    }
    out.push({ name, expr: body.join('\n').trim() });
  }
  const rules = lines.filter((l) => /^\s*- (?:alert|record): /.test(l)).length;
  if (out.length !== rules) throw new Error(`read ${out.length} expressions for ${rules} rules`);
  return out;
}

export interface DashboardTarget {
  panel: string;
  expr: string;
}

interface Panel {
  title?: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}

export function dashboardTargets(dashboard: { panels?: Panel[] }): DashboardTarget[] {
  const out: DashboardTarget[] = [];
  const walk = (panels: Panel[] = []) => {
    for (const p of panels) {
      for (const t of p.targets ?? []) if (t.expr !== undefined) out.push({ panel: p.title ?? '', expr: t.expr });
      walk(p.panels);
    }
  };
  walk(dashboard.panels);
  return out;
}

/** A dashboard expression with Grafana's variables replaced, so Prometheus tools can parse it. */
export function withoutGrafanaVariables(expr: string): string {
  return expr.replace(/\$__\w+/g, '5m').replace(/\$\{?\w+\}?/g, '.*');
}

export function readDeployFile(path: string): string {
  return readFileSync(path, 'utf8');
}
