import { createRequire } from 'node:module';
import { Job } from 'bullmq';
import type { JobsOptions, Queue } from 'bullmq';
import { Packr } from 'msgpackr';

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
