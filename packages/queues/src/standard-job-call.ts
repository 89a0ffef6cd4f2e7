import { createRequire } from 'node:module';
import { Job } from 'bullmq';
import type { JobsOptions, Queue } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import { Packr } from 'msgpackr';
import { Coalescer } from './coalescer.js';
import type { LuaCommand } from './lua-command.js';
import { KeyTable, luaCommand } from './lua-command.js';

/**
 * BullMQ's own `addStandardJob` Lua, and the exact arguments `queue.add` would pass it, so another
 * script can add a job in the same atomic step as its own writes (the ingress: record + job in one
 * round trip). BullMQ is pinned to an exact version; `standard-job-call.int.test.ts` checks that a
 * job added this way is stored and processed exactly like one from `queue.add`.
 */
const require = createRequire(import.meta.url);
const script = (require('bullmq/dist/cjs/scripts/addStandardJob-9.js') as { addStandardJob: { content: string; keys: number } })
  .addStandardJob;

export const ADD_STANDARD_JOB_LUA: string = script.content;

// The same encoder settings as BullMQ's scripts.js.
const packer = new Packr({ useRecords: false, encodeUndefinedAsNil: true });

export interface StandardJobCall {
  keys: string[];
  args: (string | Buffer | number)[];
}

/** Without `opts.jobId` BullMQ numbers the job itself (and the stored options stay short). */
export function standardJobCall(queue: Queue, name: string, data: unknown, opts: JobsOptions): StandardJobCall {
  const job = new Job(queue, name, data, opts, opts.jobId);
  const json = job.asJSON();
  const k = queue.keys;
  const args = [k[''], opts.jobId ?? '', name, json.timestamp, null, null, undefined, undefined, null];
  return {
    keys: [k.wait!, k.paused!, k.meta!, k.id!, k.completed!, k.delayed!, k.active!, k.events!, k.marker!],
    args: [packer.pack(args), json.data, packer.pack(json.opts)],
  };
}

/**
 * Lua that runs `bullmqAddStandardJob(keys, args)` for each item of a batch. Wrapped in pcall so one
 * item's error is that item's answer ({'error', message}) and the others still go through.
 * KEYS: a KeyTable. ARGV[1]: item count; per item `keysPerItem` KEYS indexes, then `argsPerItem` args.
 * `perItem` is Lua returning the item's answer from `k` (its keys) and `a` (its args).
 */
export function batchLua(opts: { prelude: string; keysPerItem: number; argsPerItem: number; perItem: string }): string {
  return `${opts.prelude}
local function bullmqAddStandardJob(KEYS, ARGV)
${ADD_STANDARD_JOB_LUA}
end
local function item(k, a)
${opts.perItem}
end
local out = {}
local at = 2
for i = 1, tonumber(ARGV[1]) do
  local k = {}
  for j = 1, ${opts.keysPerItem} do k[j] = KEYS[tonumber(ARGV[at + j - 1])] end
  at = at + ${opts.keysPerItem}
  local a = {}
  for j = 1, ${opts.argsPerItem} do a[j] = ARGV[at + j - 1] end
  at = at + ${opts.argsPerItem}
  local ok, r = pcall(item, k, a)
  if ok then out[i] = r
  elseif type(r) == 'table' and r.err then out[i] = {'error', r.err}
  else out[i] = {'error', tostring(r)} end
end
return out
`;
}

const ADD_JOBS_BATCH = batchLua({
  prelude: '',
  keysPerItem: 9,
  argsPerItem: 3,
  perItem: `
  local jobId = bullmqAddStandardJob(k, a)
  if type(jobId) == 'number' and jobId < 0 then return {'error', 'addStandardJob failed: ' .. jobId} end
  return {'ok', tostring(jobId)}`,
});

/**
 * `queue.add(name, data, opts)` for many concurrent callers: adds made while a batch is in Redis go
 * together in the next script call (see Coalescer). Each job is stored exactly as `queue.add` stores
 * it; each call resolves with its job id once Redis has the job.
 */
export class BatchedJobAdder<T> {
  readonly #queue: Queue;
  readonly #name: string;
  readonly #opts: JobsOptions;
  readonly #run: LuaCommand;
  readonly #adds: Coalescer<StandardJobCall, string>;

  constructor(redis: Redis | Cluster, queue: Queue, name: string, opts: JobsOptions, batch: { maxBatch?: number } = {}) {
    this.#queue = queue;
    this.#name = name;
    this.#opts = opts;
    this.#run = luaCommand(redis, ADD_JOBS_BATCH, 'any');
    this.#adds = new Coalescer((calls) => this.#addBatch(calls), batch);
  }

  add(data: T): Promise<string> {
    return this.#adds.submit(standardJobCall(this.#queue, this.#name, data, this.#opts));
  }

  async #addBatch(calls: StandardJobCall[]): Promise<(string | Error)[]> {
    const table = new KeyTable();
    const args: (string | number | Buffer)[] = [calls.length];
    for (const call of calls) {
      for (const key of call.keys) args.push(table.index(key));
      args.push(...call.args);
    }
    const answers = (await this.#run(table.keys, args)) as [string, string][];
    return answers.map(([kind, detail]) => (kind === 'ok' ? detail : new Error(`job add failed in Redis: ${detail}`)));
  }
}
