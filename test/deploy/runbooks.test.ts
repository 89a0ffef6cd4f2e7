import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '@cbot-relay/testing';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ALERTS_FILE } from './promql.js';

interface Rule {
  alert?: string;
  annotations?: Record<string, string>;
}

const rules = (parse(readFileSync(ALERTS_FILE, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);
const alerts = rules.filter((r) => r.alert !== undefined);
const operations = readFileSync(join(REPO_ROOT, 'docs/operations.md'), 'utf8');
// GitHub's anchor for a heading: lower case, spaces to '-', punctuation dropped.
const anchors = new Set(
  [...operations.matchAll(/^#{1,6} (.+)$/gm)].map((m) => m[1]!.trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-')),
);

describe('every alert has a runbook', () => {
  it.each(alerts.map((a) => [a.alert!, a] as const))('%s links its section of docs/operations.md', (name, rule) => {
    expect(rule.annotations?.runbook_url).toBe(`docs/operations.md#${name.toLowerCase()}`);
    expect(anchors.has(name.toLowerCase()), `docs/operations.md has no "#### ${name.toLowerCase()}" section`).toBe(true);
  });

  it('reads the rules (a parse that found none would pass the check above vacuously)', () => {
    expect(alerts.length).toBeGreaterThanOrEqual(11);
  });
});
