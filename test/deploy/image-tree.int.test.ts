import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { REPO_ROOT, type TestRedis, freePort, startTestRedis, uniquePrefix, waitFor } from '@cbot-relay/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { dockerfileStages, stage } from './dockerfile.js';

// Re-runs the Dockerfile's deps and build stages (their COPY and RUN steps, in order) in a scratch
// directory, offline against the local pnpm store, and inspects the tree the runtime stage copies.
// No container engine is needed: /app is the scratch directory, /runtime the tree under test.
// The one step not re-run there is `pnpm build` (see buildInCheckout).

const stages = dockerfileStages();
let scratch: string;
let runtime: string;

function walk(dir: string, visit: (path: string) => void): void {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    visit(path);
    if (lstatSync(path).isDirectory()) walk(path, visit);
  }
}

/** The build context: what git tracks or would add (so .gitignore'd dist, node_modules, .env stay out). */
function contextFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO_ROOT, encoding: 'utf8' });
  return out.split('\0').filter((f) => f !== '' && existsSync(join(REPO_ROOT, f)));
}

function copyFromContext(sources: string[], app: string): void {
  const files = contextFiles();
  for (const src of sources) {
    const wanted = src === '.' || src === './' ? files : files.filter((f) => f === src || f.startsWith(`${src.replace(/\/$/, '')}/`));
    if (wanted.length === 0) throw new Error(`COPY ${src}: not in the build context`);
    for (const f of wanted) {
      mkdirSync(dirname(join(app, f)), { recursive: true });
      cpSync(join(REPO_ROOT, f), join(app, f));
    }
  }
}

/**
 * `pnpm build` runs in the checkout (tsc -b is incremental, so it costs nothing when built already,
 * and a full compile in a scratch directory takes minutes on a busy 2-core machine); its `dist`
 * directories are then copied into the scratch directory, where the build stage would have made them.
 */
function buildInCheckout(app: string): void {
  const r = spawnSync('pnpm', ['build'], { cwd: REPO_ROOT, env: cleanEnv(), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`pnpm build failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  for (const group of ['packages', 'services', 'examples']) {
    for (const name of readdirSync(join(app, group))) {
      const dist = join(REPO_ROOT, group, name, 'dist');
      if (existsSync(dist)) cpSync(dist, join(app, group, name, 'dist'), { recursive: true });
    }
  }
}

function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('npm_')));
}

function run(command: string, app: string): void {
  if (command.trim() === 'pnpm build') return buildInCheckout(app);
  // Offline against the local store: `pnpm fetch` is the only step that would go to the registry.
  const cmd = command.replace(/(?<![\w./-])\/runtime\b/g, runtime).replace(/(?<![\w./-])\/app\b/g, app).replace(/^pnpm fetch\b/, 'pnpm fetch --offline');
  const started = Date.now();
  const r = spawnSync('sh', ['-c', cmd], { cwd: app, env: cleanEnv(), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  console.log(`RUN ${command}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (r.status !== 0) throw new Error(`RUN ${command} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
}

function runStage(name: string, app: string): void {
  for (const { op, args } of stage(stages, name).instructions) {
    if (op === 'COPY') {
      const parts = args.split(/\s+/);
      if (parts.some((p) => p.startsWith('--'))) throw new Error(`COPY ${args}: flags not expected in stage ${name}`);
      const dest = parts.pop();
      if (dest !== './' && dest !== '.') throw new Error(`COPY ${args}: only copies into WORKDIR are re-run`);
      copyFromContext(parts, app);
    } else if (op === 'RUN') {
      run(args, app);
    }
  }
}

interface Lockfile {
  importers: Record<string, Partial<Record<'dependencies' | 'devDependencies' | 'optionalDependencies', Record<string, { version: string }>>>>;
  snapshots: Record<string, Partial<Record<'dependencies' | 'optionalDependencies', Record<string, string>>>>;
}

/**
 * Packages (name@version) that only devDependencies reach, from pnpm-lock.yaml: everything reachable
 * from any project's devDependencies (and from packages/testing, which only devDependencies name),
 * less everything reachable from the runtime projects' dependencies. Plus, whatever the lockfile says,
 * the tools that must never ship.
 */
function devOnlyPackages(): { exact: Set<string>; names: string[] } {
  const lock = parse(readFileSync(join(REPO_ROOT, 'pnpm-lock.yaml'), 'utf8')) as Lockfile;
  const closure = (roots: [string, string][]): Set<string> => {
    const seen = new Set<string>();
    const stack = [...roots];
    for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
      const [name, version] = next;
      if (version.startsWith('link:')) continue;
      const key = `${name}@${version}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const snap = lock.snapshots[key] ?? {};
      for (const deps of [snap.dependencies, snap.optionalDependencies]) for (const [n, v] of Object.entries(deps ?? {})) stack.push([n, v]);
    }
    return seen;
  };
  const deps = (importer: string, kinds: ('dependencies' | 'devDependencies' | 'optionalDependencies')[]): [string, string][] =>
    kinds.flatMap((k) => Object.entries(lock.importers[importer]?.[k] ?? {}).map(([n, d]): [string, string] => [n, d.version]));
  const importers = Object.keys(lock.importers);
  const runtime = importers.filter((i) => i !== 'packages/testing' && i !== '.');
  const prod = closure(runtime.flatMap((i) => deps(i, ['dependencies', 'optionalDependencies'])));
  const dev = closure([...importers.flatMap((i) => deps(i, ['devDependencies'])), ...deps('packages/testing', ['dependencies'])]);
  const bare = (key: string) => key.replace(/\(.*$/, '');
  const prodBare = new Set([...prod].map(bare));
  return {
    exact: new Set([...dev].map(bare).filter((k) => !prodBare.has(k))),
    names: ['vitest', 'typescript', 'testcontainers', 'tsx', 'dockerode', 'ssh2', 'esbuild', 'vite', '@grpc/grpc-js', 'fast-check', 'autocannon'],
  };
}

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'cbot-relay-image-'));
  const app = join(scratch, 'app');
  runtime = join(scratch, 'runtime');
  mkdirSync(app);
  runStage('deps', app);
  runStage('build', app);
}, 600_000);

afterAll(() => {
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});

describe('the image runtime tree (Dockerfile deps and build stages re-run)', () => {
  it('holds no dev dependency and no packages/testing', () => {
    // .pnpm entries are `name@version` (scope `@a/b` as `@a+b`, peers after `_`).
    const installed = readdirSync(join(runtime, 'node_modules/.pnpm'))
      .filter((d) => d !== 'node_modules' && d !== 'lock.yaml')
      .map((d) => d.replace('+', '/').replace(/_.*$/, ''));
    const { exact, names } = devOnlyPackages();
    expect(exact.size).toBeGreaterThan(50);
    const found = installed.filter((d) => exact.has(d) || names.some((n) => d.startsWith(`${n}@`)));
    expect(found).toEqual([]);
    expect(existsSync(join(runtime, 'packages/testing'))).toBe(false);
  });

  it('holds compiled JavaScript, the Lua scripts and package.json files only: no TypeScript, tests, maps or declarations', () => {
    const ours: string[] = [];
    const ts: string[] = [];
    walk(runtime, (p) => {
      if (!lstatSync(p).isFile()) return;
      const rel = relative(runtime, p);
      if (/\.(ts|mts|cts)$/.test(rel)) ts.push(rel);
      if (!rel.split('/').includes('node_modules')) ours.push(rel);
    });
    expect(ts).toEqual([]);
    expect(ours.filter((f) => !(f.endsWith('/package.json') || f === 'package.json' || /\/dist\/.*\.js$/.test(f) || /^packages\/records\/lua\/.*\.lua$/.test(f)))).toEqual([]);
    expect(ours.filter((f) => /test|fixture|bench/.test(f))).toEqual([]);
  });

  it('holds every entry point: relay, simulator, example consumer (and the CLI where services/cli exists)', () => {
    const entries = ['services/relay/dist/main.js', 'services/cbot-sim/dist/main.js', 'examples/consumer/dist/consume.js'];
    if (existsSync(join(REPO_ROOT, 'services/cli/package.json'))) entries.push('services/cli/dist/main.js');
    for (const e of entries) expect(existsSync(join(runtime, e)), e).toBe(true);
  });

  it('is read-only to everyone but its owner, and every link resolves inside it', () => {
    const writable: string[] = [];
    const links: string[] = [];
    walk(runtime, (p) => {
      const st = lstatSync(p);
      if (st.isSymbolicLink()) {
        if (!existsSync(p) || relative(realpathSync(runtime), realpathSync(p)).startsWith('..')) links.push(relative(runtime, p));
      } else if ((st.mode & 0o022) !== 0) {
        writable.push(relative(runtime, p));
      }
    });
    expect(writable).toEqual([]);
    expect(links).toEqual([]);
  });

  it('holds every Lua script, found from the compiled data layer', () => {
    const names = readdirSync(join(REPO_ROOT, 'packages/records/lua')).filter((f) => f.endsWith('.lua'));
    expect(names.length).toBeGreaterThan(5);
    const loader = join(runtime, 'packages/records/dist/lua/loader.js');
    const script = 'const { loadLua } = await import(process.argv[1]); for (const n of process.argv.slice(2)) loadLua(n, new Proxy({}, { get: () => "0" }));';
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, loader, ...names.map((n) => n.replace(/\.lua$/, ''))], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('accepts every subscriptions file deploy/ ships (compose and Kubernetes), read by the fanout in the tree', () => {
    const files = contextFiles().filter((f) => f.startsWith('deploy/') && f.endsWith('subscriptions.json'));
    expect(files.length).toBeGreaterThanOrEqual(3);
    const fanout = join(runtime, 'services/fanout/dist/index.js');
    const script = 'const { loadSubscriptions } = await import(process.argv[1]); loadSubscriptions(process.argv[2]);';
    for (const f of files) {
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, fanout, join(REPO_ROOT, f)], { encoding: 'utf8' });
      expect(r.stderr, f).toBe('');
      expect(r.status, f).toBe(0);
    }
  });

  it('weighs its node_modules (logged: the figure the docs quote)', () => {
    let bytes = 0;
    walk(join(runtime, 'node_modules'), (p) => {
      const st = lstatSync(p);
      if (st.isFile()) bytes += st.size;
    });
    console.log(`image runtime tree: node_modules ${(bytes / 1e6).toFixed(1)} MB`);
    expect(bytes).toBeGreaterThan(1e6);
    expect(bytes).toBeLessThan(60e6);
  });
});

describe('the runtime tree runs (every role) and the HEALTHCHECK reads it', () => {
  let redis: TestRedis;
  let relay: ChildProcess | undefined;
  const healthcheck = join(REPO_ROOT, 'deploy/docker/healthcheck.mjs');
  const check = (opsPort: number) =>
    spawnSync(process.execPath, [healthcheck], { env: { PATH: process.env.PATH, OPS_PORT: String(opsPort) }, encoding: 'utf8' });

  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => {
    relay?.kill('SIGKILL');
    await redis?.close();
  });

  it('answers ready with the image command and NODE_OPTIONS, and the check fails once it stops', async () => {
    expect(statSync(join(runtime, 'services/relay/dist/main.js')).isFile()).toBe(true);
    const [port, opsPort, cbotPort] = [await freePort(), await freePort(), await freePort()];
    const out: string[] = [];
    relay = spawn(process.execPath, ['--max-old-space-size=96', '--max-semi-space-size=8', 'services/relay/dist/main.js'], {
      cwd: runtime,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'production',
        LOG_FORMAT: 'json',
        REDIS_URL: redis.url,
        QUEUE_PREFIX: uniquePrefix('image'),
        PORT: String(port),
        OPS_PORT: String(opsPort),
        HOST: '127.0.0.1',
        // Nothing listens there: readiness does not depend on CBOT.
        CBOT_BASE_URL: `http://127.0.0.1:${cbotPort}/`,
        CBOT_API_KEY: 'image-test-key',
        // The file docker-compose.yml mounts: an invalid one stops the relay at startup.
        SUBSCRIPTIONS_FILE: join(REPO_ROOT, 'deploy/compose/subscriptions.json'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    relay.stdout?.on('data', (d: Buffer) => out.push(d.toString()));
    relay.stderr?.on('data', (d: Buffer) => out.push(d.toString()));
    const exited = new Promise<number | string | null>((resolve) => relay?.once('exit', (code, signal) => resolve(code ?? signal)));

    expect(check(opsPort).status).toBe(1);
    await waitFor(() => check(opsPort).status === 0, { timeoutMs: 30_000, intervalMs: 250, what: 'the relay to be ready' }).catch((err: unknown) => {
      throw new Error(`${String(err)}\nrelay output:\n${out.join('')}`);
    });
    relay.kill('SIGTERM');
    const code = await exited;
    if (code !== 0) throw new Error(`the relay exited with ${code} on SIGTERM (expected 0); its output:\n${out.join('')}`);
    const after = check(opsPort);
    expect(after.status).toBe(1);
    expect(after.stderr).toContain(`127.0.0.1:${opsPort}/readyz`);
  });

  it('says why when OPS_PORT names no port to probe', () => {
    const r = spawnSync(process.execPath, [healthcheck], { env: { OPS_PORT: 'off' }, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('OPS_PORT=off is no fixed port');
  });
});
