import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root, from this file's place in packages/testing/src. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface RelayProcessOptions {
  env: Record<string, string>;
  /** Entry file relative to the repo root. */
  entry?: string;
  /**
   * Run the compiled JavaScript (`pnpm build` first) instead of the TypeScript sources through tsx,
   * as the Docker image does: `services/x/src/main.ts` becomes `services/x/dist/main.js`.
   */
  compiled?: boolean;
  /** Log line (pino `msg`) that means "started". */
  readyMessage?: string;
  readyTimeoutMs?: number;
}

/**
 * A relay (or any service entry) as a real child process, run from TypeScript sources with tsx, so
 * tests can SIGKILL or SIGTERM it mid-flight. Keeps its JSON log lines for assertions.
 */
export class RelayProcess {
  readonly lines: string[] = [];
  readonly #child: ChildProcess;
  readonly #exited: Promise<number | null>;

  private constructor(child: ChildProcess) {
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ? null : code)));
    let buf = '';
    const take = (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        this.lines.push(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
    };
    child.stdout?.on('data', take);
    child.stderr?.on('data', take);
  }

  static async start(opts: RelayProcessOptions): Promise<RelayProcess> {
    const source = opts.entry ?? 'services/relay/src/main.ts';
    const entry = opts.compiled ? source.replace('/src/', '/dist/').replace(/\.ts$/, '.js') : source;
    const args = opts.compiled ? [entry] : ['--conditions=@cbot-relay/source', '--import', 'tsx', entry];
    const child = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      // OPS_PORT 0 (any free port) unless the caller picks one: several relays on one host must not all want 9464.
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'info', OPS_PORT: '0', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const p = new RelayProcess(child);
    const ready = opts.readyMessage ?? 'cbot-relay started';
    const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
    while (!p.lines.some((l) => l.includes(`"msg":"${ready}"`))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`process did not start (${entry}):\n${p.lines.slice(-20).join('\n')}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    return p;
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Sends the signal and resolves with the exit code (null when killed by a signal). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill(signal);
    return this.#exited;
  }

  exited(): Promise<number | null> {
    return this.#exited;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop('SIGKILL');
  }
}
