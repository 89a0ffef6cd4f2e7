import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import type { Redis } from 'ioredis';

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  redis: string;
  platform: string;
  /** 1-minute load average when the bench started: other work on the machine skews every figure. */
  loadAvgAtStart: number;
  /** The commit measured, with "+dirty" when the tree had uncommitted changes. */
  revision: string;
}

function revision(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head}+dirty` : head;
  } catch {
    return 'unknown';
  }
}

export async function machineInfo(redis: Redis, loadAvgAtStart: number): Promise<Machine> {
  const info = await redis.info('server');
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    redis: /^redis_version:(.+)$/m.exec(info)?.[1]?.trim() ?? 'unknown',
    platform: `${process.platform} ${process.arch}`,
    loadAvgAtStart,
    revision: revision(),
  };
}

/** AOF rewrites fork Redis and take a core; delayed fsyncs mean Redis waited on the disk. Both explain dips. */
export async function redisHealth(redis: Redis): Promise<Record<string, number>> {
  const info = `${await redis.info('persistence')}\n${await redis.info('memory')}`;
  const pick = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? NaN);
  return {
    aofRewrites: pick('aof_rewrites'),
    aofDelayedFsync: pick('aof_delayed_fsync'),
    usedMemoryPeakBytes: pick('used_memory_peak'),
  };
}
