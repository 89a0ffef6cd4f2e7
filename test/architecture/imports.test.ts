import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT } from '@cbot-relay/testing';
import { describe, expect, it } from 'vitest';

/**
 * The import rule of docs/architecture.md ("Rooms and what may import what"), checked on the sources:
 * a rule broken by a new import fails here, naming the file and the import.
 */

// Leaf packages: the wire shapes, configuration, logging/metrics, the test kit. They import no other
// workspace package, so anything may use them without pulling the relay in.
const LEAVES = new Set(['messages', 'config', 'observability', 'testing']);
// The composition root may start every role and the bundled simulator.
const SERVICE_IMPORTS: Record<string, string[]> = { relay: ['ingress', 'dispatcher', 'fanout', 'cbot-sim'] };
// Known breaks of the rule, each to be removed by the change that mends it (issue #24, "roles as
// modules": the subscriber-queue access the CLI borrows from fanout moves to a package).
const KNOWN_EXCEPTIONS = new Set(['services/cli -> fanout']);

interface Source {
  file: string;
  room: 'packages' | 'services';
  name: string;
  test: boolean;
  imports: string[];
}

function* tsFiles(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === 'dist') continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* tsFiles(p);
    else if (e.name.endsWith('.ts')) yield p;
  }
}

function sources(): Source[] {
  const out: Source[] = [];
  for (const room of ['packages', 'services'] as const) {
    for (const name of readdirSync(join(REPO_ROOT, room))) {
      const src = join(REPO_ROOT, room, name, 'src');
      let files: string[];
      try {
        files = [...tsFiles(src)];
      } catch {
        continue;
      }
      for (const file of files) {
        const text = readFileSync(file, 'utf8');
        const imports = [...text.matchAll(/(?:from|import)\s*\(?\s*'(@cbot-relay\/[^']+)'/g)].map((m) => m[1]!);
        const rel = relative(REPO_ROOT, file);
        const test = /\.test\.ts$/.test(file) || /\/(test-kit|test-support)\//.test(rel);
        out.push({ file: rel, room, name, test, imports });
      }
    }
  }
  return out;
}

const all = sources();
const services = new Set(all.filter((s) => s.room === 'services').map((s) => s.name));

function breaks(s: Source): string[] {
  const out: string[] = [];
  for (const spec of s.imports) {
    const target = spec.slice('@cbot-relay/'.length);
    if (target.includes('/')) {
      out.push(`${s.file}: deep import ${spec} (use the package's index)`);
      continue;
    }
    if (target === s.name) continue;
    // Tests may use the test kit, run the real simulator and start a whole relay.
    if (s.test && (target === 'testing' || target === 'cbot-sim' || target === 'relay')) continue;
    if (KNOWN_EXCEPTIONS.has(`${s.room}/${s.name} -> ${target}`)) continue;
    if (s.room === 'packages') {
      if (services.has(target)) out.push(`${s.file}: a package imports the service ${target}`);
      else if (LEAVES.has(s.name)) out.push(`${s.file}: the leaf package ${s.name} imports ${target}`);
    } else if (services.has(target) && !(SERVICE_IMPORTS[s.name] ?? []).includes(target)) {
      out.push(`${s.file}: the service ${s.name} imports the service ${target}`);
    }
  }
  return out;
}

describe('the import rule (docs/architecture.md)', () => {
  it('reads the workspace (an empty scan would pass vacuously)', () => {
    expect(all.length).toBeGreaterThan(100);
    expect(services.has('ingress') && services.has('relay')).toBe(true);
  });

  it('no source imports across the rule', () => {
    expect(all.flatMap(breaks)).toEqual([]);
  });

  it('catches a break (the checker itself)', () => {
    const fake: Source = { file: 'packages/records/src/x.ts', room: 'packages', name: 'records', test: false, imports: ['@cbot-relay/ingress'] };
    const leaf: Source = { file: 'packages/messages/src/x.ts', room: 'packages', name: 'messages', test: false, imports: ['@cbot-relay/records'] };
    const role: Source = { file: 'services/dispatcher/src/x.ts', room: 'services', name: 'dispatcher', test: false, imports: ['@cbot-relay/fanout'] };
    const deep: Source = { file: 'services/relay/src/x.ts', room: 'services', name: 'relay', test: false, imports: ['@cbot-relay/records/src/keys.js'] };
    expect([fake, leaf, role, deep].map((s) => breaks(s).length)).toEqual([1, 1, 1, 1]);
  });
});
