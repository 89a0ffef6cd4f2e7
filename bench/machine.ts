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
  };
}
