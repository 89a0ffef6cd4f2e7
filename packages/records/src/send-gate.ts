import type { Cluster, Redis } from 'ioredis';
import type { LuaCommand } from '@cbot-relay/queues';
import { luaCommand } from '@cbot-relay/queues';

/**
 * GCRA over Redis TIME: one theoretical-arrival-time key shared by every dispatcher, so the rate is
 * global. Also honours a global pause set when CBOT throttles us (429 / throttling codes).
 * KEYS: tat, pause. ARGV: intervalMs, toleranceMs. Returns {0|1 paused, waitMs}.
 */
const ACQUIRE = `
local pause = redis.call('PTTL', KEYS[2])
if pause > 0 then return {1, pause} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local allowAt = tat - tonumber(ARGV[2])
if now < allowAt then return {0, allowAt - now} end
local nextTat = tat + interval
redis.call('SET', KEYS[1], tostring(nextTat), 'PX', math.ceil(nextTat - now + 1000))
return {0, 0}
`;

/** KEYS: pause. ARGV: ms. Extends, never shortens, the pause. */
const PAUSE = `
local cur = redis.call('PTTL', KEYS[1])
if cur < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], '1', 'PX', ARGV[1]) end
return 1
`;

export type GateAnswer = { kind: 'go' } | { kind: 'wait'; ms: number; paused: boolean };

export class SendGate {
  readonly #acquire: LuaCommand;
  readonly #pauseCmd: LuaCommand;
  readonly #tat: string;
  readonly #pause: string;
  readonly #intervalMs: number;
  readonly #toleranceMs: number;

  /** `ratePerSecond` across all dispatchers; bursts of up to a tenth of a second's worth pass at once. */
  constructor(opts: { redis: Redis | Cluster; prefix: string; ratePerSecond: number }) {
    this.#acquire = luaCommand(opts.redis, ACQUIRE, 2);
    this.#pauseCmd = luaCommand(opts.redis, PAUSE, 1);
    this.#tat = `${opts.prefix}:gate:tat`;
    this.#pause = `${opts.prefix}:gate:pause`;
    this.#intervalMs = 1000 / opts.ratePerSecond;
    const burst = Math.max(1, Math.floor(opts.ratePerSecond / 10));
    this.#toleranceMs = this.#intervalMs * (burst - 1);
  }

  async acquire(): Promise<GateAnswer> {
    const [paused, ms] = (await this.#acquire([this.#tat, this.#pause], [this.#intervalMs, this.#toleranceMs])) as [number, number];
    if (paused === 0 && ms === 0) return { kind: 'go' };
    return { kind: 'wait', ms: Math.max(1, ms), paused: paused === 1 };
  }

  /** CBOT told us to slow down: every dispatcher holds off for `ms`. */
  async pause(ms: number): Promise<void> {
    await this.#pauseCmd([this.#pause], [Math.max(1, Math.round(ms))]);
  }
}
