import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on Linux). */
const TICKS_PER_S = 100;

/** CPU time (user + system) a process has used so far, ms; undefined once it has exited. */
export function cpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name, which may itself contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_S;
  } catch {
    return undefined;
  }
}

/**
 * CPU used by each process over a stretch of work. On a shared 2-core machine throughput moves with
 * whatever else runs; CPU time per request does much less, so it is the figure to compare levers by.
 */
export function cpuMeter(pids: Record<string, number>): () => Record<string, number> {
  const start = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuMs(pid) ?? 0]));
  return () => Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, (cpuMs(pid) ?? 0) - (start[k] ?? 0)]));
}
