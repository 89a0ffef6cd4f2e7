import type { Cluster, Redis } from 'ioredis';

export class LaneCountMismatchError extends Error {
  override name = 'LaneCountMismatchError';
}

/**
 * Every process of one relay must hash recipients onto the same number of lanes, or messages land
 * on lanes nobody serves (or one recipient on two lanes, breaking order). The first process records
 * the count under the prefix; any process configured differently refuses to start.
 */
export async function assertLaneCount(redis: Redis | Cluster, prefix: string, lanes: number): Promise<void> {
  const key = `${prefix}:lanes`;
  await redis.set(key, String(lanes), 'NX');
  const recorded = Number(await redis.get(key));
  if (recorded !== lanes) {
    throw new LaneCountMismatchError(
      `DISPATCH_LANES: this process has ${lanes} but the relay's queues under "${prefix}" use ${recorded}; ` +
        `use ${recorded}, or drain the outbound queues and delete the key "${key}" to change it`,
    );
  }
}
