import { createRequire } from 'node:module';
import { Job } from 'bullmq';
import type { JobsOptions, Queue } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import { Packr } from 'msgpackr';
import { Coalescer } from './coalescer.js';
import { MAX_BATCH_CHARS, batchCall, batchLua } from './batch-script.js';
import type { LuaCommand } from './lua-command.js';
import { luaCommand } from './lua-command.js';

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

/** addStandardJob's first argument, as BullMQ's scripts.js packs it for a job with no parent, repeat or dedup. */
function packedJobArgs(prefixKey: string, jobId: string, name: string, timestamp: number): Buffer {
  return packer.pack([prefixKey, jobId, name, timestamp, null, null, undefined, undefined, null]);
}

/** Without `opts.jobId` BullMQ numbers the job itself (and the stored options stay short). */
export function standardJobCall(queue: Queue, name: string, data: unknown, opts: JobsOptions): StandardJobCall {
  const job = new Job(queue, name, data, opts, opts.jobId);
  const json = job.asJSON();
  const k = queue.keys;
  return {
    keys: [k.wait!, k.paused!, k.meta!, k.id!, k.completed!, k.delayed!, k.active!, k.events!, k.marker!],
    args: [packedJobArgs(k['']!, opts.jobId ?? '', name, json.timestamp), json.data, packer.pack(json.opts)],
  };
}

/**
 * standardJobCall for many jobs of one queue, name and options (BullMQ numbering them): the keys and
 * the encoded options are worked out once, from a BullMQ Job, instead of building a Job per call.
 */
export class StandardJobCalls {
  readonly #keys: string[];
  readonly #prefixKey: string;
  readonly #name: string;
  readonly #opts: Buffer;

  constructor(queue: Queue, name: string, opts: JobsOptions) {
    if (opts.jobId !== undefined || opts.timestamp !== undefined) throw new Error('StandardJobCalls: jobs are numbered by BullMQ and stamped now');
    const reference = standardJobCall(queue, name, null, opts);
    this.#keys = reference.keys;
    this.#opts = reference.args[2] as Buffer;
    this.#prefixKey = queue.keys['']!;
    this.#name = name;
  }

  call(data: unknown, timestamp = Date.now()): StandardJobCall {
    return { keys: this.#keys, args: [packedJobArgs(this.#prefixKey, '', this.#name, timestamp), JSON.stringify(data === undefined ? {} : data), this.#opts] };
  }
}

/** addStandardJob as a Lua function, for scripts that add jobs among their own writes. */
export const ADD_STANDARD_JOB_FN = `
local function bullmqAddStandardJob(KEYS, ARGV)
${ADD_STANDARD_JOB_LUA}
end
`;

const JOB_SHAPE = { keysPerItem: 9, argsPerItem: 3 };

const ADD_JOBS_BATCH = batchLua({
  ...JOB_SHAPE,
  prelude: ADD_STANDARD_JOB_FN,
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
  readonly #calls: StandardJobCalls;
  readonly #run: LuaCommand;
  readonly #adds: Coalescer<StandardJobCall, string>;

  constructor(redis: Redis | Cluster, queue: Queue, name: string, opts: JobsOptions, batch: { maxBatch?: number; maxBatchWeight?: number } = {}) {
    this.#calls = new StandardJobCalls(queue, name, opts);
    this.#run = luaCommand(redis, ADD_JOBS_BATCH, 'any');
    // Job data is the bulk of a call; a few large payloads go in calls of their own.
    this.#adds = new Coalescer((calls) => this.#addBatch(calls), { maxBatchWeight: MAX_BATCH_CHARS, ...batch, weigh: (call) => String(call.args[1]).length });
  }

  add(data: T): Promise<string> {
    return this.#adds.submit(this.#calls.call(data));
  }

  async #addBatch(calls: StandardJobCall[]): Promise<(string | Error)[]> {
    const { keys, args } = batchCall(calls, JOB_SHAPE);
    const answers = (await this.#run(keys, args)) as [string, string][];
    return answers.map(([kind, detail]) => (kind === 'ok' ? detail : new Error(`job add failed in Redis: ${detail}`)));
  }
}
