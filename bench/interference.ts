import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_S = 100;

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Busy CPU time of the whole machine, ms (every field of /proc/stat's cpu line but idle and iowait). */
function machineBusyMs(): number {
  const line = read('/proc/stat')?.split('\n', 1)[0] ?? '';
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  return (((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) * 1000) / TICKS_PER_S;
}

/**
 * CPU of this process and everything under it, ms. A child that exited and was reaped has its time
 * in its parent's cutime/cstime, so stopped dispatchers still count.
 */
function treeMs(): number {
  const children = new Map<number, number[]>();
  const times = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = read(`/proc/${name}/stat`);
    if (!stat) continue;
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pid = Number(name);
    const ppid = Number(f[1]);
    times.set(pid, ((Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * 1000) / TICKS_PER_S);
    children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  }
  let total = 0;
  const stack = [process.pid];
  while (stack.length) {
    const pid = stack.pop()!;
    total += times.get(pid) ?? 0;
    stack.push(...(children.get(pid) ?? []));
  }
  return total;
}

/** Microseconds some task waited for a CPU (PSI), or undefined without /proc/pressure. */
function cpuStallUs(): number | undefined {
  const m = /^some .* total=(\d+)$/m.exec(read('/proc/pressure/cpu') ?? '');
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

export interface Interference {
  /** Cores kept busy by processes the bench did not start (other work on a shared machine). */
  otherCores: number;
  /** Cores kept busy by the bench and its children. */
  benchCores: number;
  /** Share of the time at least one runnable task waited for a CPU (PSI "some"), 0..1. */
  cpuPressure: number | undefined;
}

/** Starts measuring; the returned function reports over the time since. */
export function interferenceMeter(): () => Interference {
  const t0 = performance.now();
  const busy0 = machineBusyMs();
  const tree0 = treeMs();
  const stall0 = cpuStallUs();
  return () => {
    const wallMs = Math.max(1, performance.now() - t0);
    const bench = treeMs() - tree0;
    const other = Math.max(0, machineBusyMs() - busy0 - bench);
    const stall = cpuStallUs();
    return {
      otherCores: other / wallMs,
      benchCores: bench / wallMs,
      cpuPressure: stall === undefined || stall0 === undefined ? undefined : (stall - stall0) / 1000 / wallMs,
    };
  };
}

/**
 * Other people's work comes in bursts (test runs, builds). Before a phase, wait up to `maxMs` for a
 * one-second window in which others use less than `threshold` cores; returns the last reading.
 */
export async function waitForQuiet(maxMs: number, threshold = 0.25): Promise<Interference> {
  const deadline = performance.now() + maxMs;
  for (;;) {
    const meter = interferenceMeter();
    await new Promise((r) => setTimeout(r, 1_000));
    const reading = meter();
    if (reading.otherCores < threshold || performance.now() >= deadline) return reading;
  }
}

/** Before each phase, wait up to this long for other work on the machine to calm down… */
const QUIET_WAIT_MS = 15_000;
/** …and at most this long over the whole run, so `pnpm bench` stays bounded. */
const QUIET_BUDGET_MS = 45_000;

/** Runs the bench's phases, each after a bounded wait for quiet, recording the interference during each. */
export class PhaseRunner {
  readonly interference: Record<string, Interference> = {};
  readonly #log: (line: string) => void;
  #quietBudgetMs = QUIET_BUDGET_MS;

  constructor(log: (line: string) => void) {
    this.#log = log;
  }

  async run<T>(name: string, work: () => Promise<T>): Promise<T> {
    const waitStart = performance.now();
    const before = await waitForQuiet(Math.min(QUIET_WAIT_MS, this.#quietBudgetMs));
    this.#quietBudgetMs -= performance.now() - waitStart;
    if (before.otherCores >= 0.25) this.#log(`  [${name}: starting although other work uses ${before.otherCores.toFixed(2)} cores]`);
    const meter = interferenceMeter();
    const result = await work();
    const i = (this.interference[name] = meter());
    const psi = i.cpuPressure === undefined ? '' : `, CPU pressure ${(i.cpuPressure * 100).toFixed(0)} %`;
    this.#log(`  [${name}: bench used ${i.benchCores.toFixed(2)} cores, other work on the machine ${i.otherCores.toFixed(2)} cores${psi}]`);
    return result;
  }
}
