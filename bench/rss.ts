import { readFileSync } from 'node:fs';

/** Peak resident set (VmHWM) of a live process in bytes; undefined once it has exited. */
export function peakRssBytes(pid: number): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] === undefined ? undefined : Number(m[1]) * 1024;
  } catch {
    return undefined;
  }
}

/** A process whose memory the bench reports. */
export interface Measured {
  role: string;
  pid: number;
}

/** The highest VmHWM seen per process, sampled at the end of each phase (and before each stop). */
export class RssTracker {
  readonly peaks = new Map<string, { role: string; pid: number; bytes: number; phase: string }>();

  sample(phase: string, children: readonly Measured[]): void {
    for (const c of children) {
      const bytes = peakRssBytes(c.pid);
      if (bytes === undefined) continue;
      const key = `${c.role}#${c.pid}`;
      const prev = this.peaks.get(key);
      if (!prev || bytes > prev.bytes) this.peaks.set(key, { role: c.role, pid: c.pid, bytes, phase });
    }
  }

  /** Largest peak per role family (dispatcher-1, dispatcher-2… count as "dispatcher"). */
  byRole(): Record<string, { bytes: number; pid: number; phase: string }> {
    const out: Record<string, { bytes: number; pid: number; phase: string }> = {};
    for (const p of this.peaks.values()) {
      const role = p.role.replace(/-\d+$/, '');
      if (!out[role] || p.bytes > out[role].bytes) out[role] = { bytes: p.bytes, pid: p.pid, phase: p.phase };
    }
    return out;
  }
}
