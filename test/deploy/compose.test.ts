import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '@cbot-relay/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// docker-compose.yml as compose itself reads it: `docker-compose config` (Debian's docker-compose
// 1.29; .ci/run installs it) with a throwaway .env made from .env.example. Under CI its absence is a
// failure, locally the checks are skipped with a note.
const found = spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0;
const ci = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
const MISSING = 'docker-compose not on PATH (apt-get install docker-compose; .ci/run installs it)';
if (!found && !ci) console.warn(`test/deploy/compose.test.ts: skipped: ${MISSING}`);

const REQUIRED = ['RELAY_API_KEYS', 'RELAY_ADMIN_KEYS', 'CBOT_API_KEY', 'CBOT_WEBHOOK_USER', 'CBOT_WEBHOOK_PASS', 'GRAFANA_ADMIN_PASSWORD'];
const ROLES = ['ingress', 'dispatcher', 'fanout'];
const IMAGE_USERS = ['cbot-sim', ...ROLES, 'consumer'];

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test?: string[]; start_period?: string; disable?: boolean };
  depends_on?: Record<string, { condition: string }>;
  ports?: { published?: string | number; target: number }[];
  volumes?: (string | Mount)[];
  read_only?: boolean;
  stop_grace_period?: string;
}
interface Mount {
  type: string;
  source: string;
  target: string;
  read_only?: boolean;
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

let dir: string;

/** A service's mounts, whichever syntax compose printed them in (1.29 prints `source:target[:mode]`). */
function mounts(s: Service): Mount[] {
  return (s.volumes ?? []).map((v) => {
    if (typeof v !== 'string') return v;
    const [source = '', target = '', mode] = v.split(':');
    return { type: source.startsWith('/') ? 'bind' : 'volume', source, target, read_only: mode === 'ro' };
  });
}
const example = readFileSync(join(REPO_ROOT, '.env.example'), 'utf8');

function config(envText: string): { status: number | null; stdout: string; stderr: string } {
  if (!found) throw new Error(MISSING);
  const envFile = join(dir, '.env');
  writeFileSync(envFile, envText);
  // Only PATH and HOME: a variable set in the caller's shell would otherwise fill a missing one.
  const r = spawnSync('docker-compose', ['--project-directory', REPO_ROOT, '-f', join(REPO_ROOT, 'docker-compose.yml'), '--env-file', envFile, 'config'], {
    env: { PATH: process.env.PATH, HOME: dir },
    encoding: 'utf8',
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.skipIf(!found && !ci)(found || ci ? 'docker-compose.yml under docker-compose config' : `docker-compose.yml (skipped: ${MISSING})`, () => {
  let stack: Compose;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cbot-relay-compose-'));
    const r = config(example);
    if (r.status !== 0) throw new Error(`docker-compose config failed:\n${r.stderr}`);
    stack = parse(r.stdout) as Compose;
  });
  afterAll(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('builds one image, once, and every relay service and the simulator run it', () => {
    const builders = Object.entries(stack.services).filter(([, s]) => s.build !== undefined);
    expect(builders.map(([name]) => name)).toEqual(['cbot-sim']);
    const image = builders[0]![1].image;
    expect(image).toBe('cbot-relay:local');
    for (const name of IMAGE_USERS) expect(stack.services[name]?.image, name).toBe(image);
  });

  it('runs Redis pinned, with AOF, maxmemory and noeviction, a start period and a named volume', () => {
    const redis = stack.services.redis!;
    expect(redis.image).toMatch(/^redis:\d+\.\d+\.\d+/);
    const cmd = redis.command!.join(' ');
    expect(cmd).toContain('--appendonly yes');
    expect(cmd).toMatch(/--maxmemory \d+[kmg]b/);
    expect(cmd).toContain('--maxmemory-policy noeviction');
    expect(redis.healthcheck?.start_period).toBeDefined();
    const data = mounts(redis).find((v) => v.target === '/data');
    expect(data?.type).toBe('volume');
    expect(Object.keys(stack.volumes ?? {})).toContain(data?.source);
  });

  it('gives every relay role a health check and starts it once Redis is healthy', () => {
    for (const role of ROLES) {
      const s = stack.services[role]!;
      expect(s.environment?.RELAY_ROLES, role).toBe(role);
      expect(s.healthcheck?.test?.join(' '), role).toContain('healthcheck.mjs');
      expect(s.depends_on?.redis?.condition, role).toBe('service_healthy');
      // Above SHUTDOWN_TIMEOUT_MS (30 s by default).
      expect(Number.parseInt(s.stop_grace_period ?? '0', 10), role).toBeGreaterThan(30);
    }
    // `disable: true`, which compose 1.29 prints as `test: [NONE]`.
    const consumer = stack.services.consumer?.healthcheck;
    expect(consumer?.disable === true || consumer?.test?.[0] === 'NONE').toBe(true);
  });

  it('mounts the example subscriptions file the relay is pointed at', () => {
    for (const role of ROLES) {
      const s = stack.services[role]!;
      const mount = mounts(s).find((v) => v.target === s.environment?.SUBSCRIPTIONS_FILE);
      expect(mount?.read_only, role).toBe(true);
      expect(existsSync(mount!.source), role).toBe(true);
    }
  });

  it('lets the ingress scale: a host port range, not one fixed port', () => {
    const ports = stack.services.ingress!.ports!;
    expect(ports).toHaveLength(1);
    expect(String(ports[0]!.published)).toMatch(/^\d+-\d+$/);
  });

  it('scrapes every role with Prometheus, rules loaded, and provisions the dashboards in Grafana', () => {
    const prom = stack.services.prometheus!;
    expect(prom.image).toMatch(/^prom\/prometheus:v\d+\.\d+\.\d+$/);
    const conf = mounts(prom).find((v) => v.target === '/etc/prometheus');
    expect(conf?.source).toBe(join(REPO_ROOT, 'deploy/prometheus'));
    const scrape = parse(readFileSync(join(conf!.source, 'prometheus.yml'), 'utf8')) as {
      rule_files: string[];
      scrape_configs: { dns_sd_configs: { names: string[]; port: number }[] }[];
    };
    expect(scrape.rule_files).toContain('alerts.yml');
    expect(scrape.scrape_configs[0]!.dns_sd_configs[0]!.names.sort()).toEqual([...ROLES].sort());
    const grafana = stack.services.grafana!;
    expect(mounts(grafana).some((v) => v.source === join(REPO_ROOT, 'deploy/grafana'))).toBe(true);
  });

  it('takes every secret from .env, and a missing one stops compose naming it', () => {
    const text = readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8');
    for (const name of REQUIRED) {
      expect(text, name).toContain(`\${${name}:?`);
      const without = example
        .split('\n')
        .filter((l) => !l.startsWith(`${name}=`))
        .join('\n');
      const r = config(without);
      expect(r.status, name).not.toBe(0);
      expect(r.stderr, name).toContain(`set ${name} in .env`);
    }
    // No credential written into the file itself.
    expect(text).not.toMatch(/(KEYS|KEY|PASS|PASSWORD):\s+[^$\s]/);
  }, 180_000);
});
