import type { Cluster, Redis } from 'ioredis';
import { scriptErrorFrom } from './errors.js';
import type { ScriptError } from './errors.js';
import { checkHeader, loadLua } from './loader.js';
import type { LuaSource } from './loader.js';
import { luaCommand, namedLocals, replyArray, replyString } from './script.js';
import type { Value } from './script.js';

/** One item of a batch script call: its keys and its arguments, as a one-item script would take them. */
export interface BatchItem {
  keys: readonly string[];
  args: readonly (string | number | Buffer)[];
}

/**
 * Lua that runs a script's body once per row of a batch (see batchCall for how a batch travels), each
 * in pcall: a row's error is that row's answer ({'error', message}) and the others still go through.
 * The body reads the row's keys and arguments as locals of their header names, the shared arguments
 * (ARGV[2], ARGV[3], ...) likewise; the includes run once per call, outside the rows.
 */
export function batchLua(src: LuaSource, shape: { keys: readonly string[]; args: readonly string[]; shared: readonly string[] }): string {
  const row = [
    shape.keys.length > 0 ? `  local ${shape.keys.join(', ')} = ${shape.keys.map((_, i) => `k[${i + 1}]`).join(', ')}` : '',
    shape.args.length > 0 ? `  local ${shape.args.join(', ')} = ${shape.args.map((_, i) => `a[${i + 1}]`).join(', ')}` : '',
  ].join('\n');
  return `${namedLocals([], shape.shared, 1)}
${src.includes}
local function item(k, a)
${row}
${src.body}
end
local rows = cmsgpack.unpack(ARGV[1])
local out = {}
for i = 1, #rows do
  local row = rows[i]
  local k = {}
  for j = 1, ${shape.keys.length} do k[j] = KEYS[row[j]] end
  local a = {}
  for j = 1, ${shape.args.length} do a[j] = row[${shape.keys.length} + j] end
  local ok, r = pcall(item, k, a)
  if ok then out[i] = r
  elseif type(r) == 'table' and r.err then out[i] = {'error', r.err}
  else out[i] = {'error', tostring(r)} end
end
return out
`;
}

export interface BatchScriptSpec<K extends string, A extends string, S extends string, R> {
  /** The file, lua/<name>.lua: its header names each row's KEYS and ARGV and the SHARED arguments. */
  name: string;
  keys: readonly K[];
  args: readonly A[];
  shared: readonly S[];
  /** One row's answer (a row that raised an error becomes a ScriptError without it). */
  parse: (answer: unknown) => R;
  constants?: Readonly<Record<string, string>>;
}

export type BatchScript<K extends string, A extends string, S extends string, R> = (
  rows: readonly { keys: Record<K, string>; args: Record<A, Value> }[],
  shared: Record<S, Value>,
) => Promise<(R | ScriptError)[]>;

/** A script run once per row in one call (defineScript's batch form): each row its own atomic step. */
export function defineBatchScript<K extends string, A extends string, S extends string, R>(
  redis: Redis | Cluster,
  spec: BatchScriptSpec<K, A, S, R>,
): BatchScript<K, A, S, R> {
  const src = loadLua(spec.name, spec.constants);
  checkHeader(spec.name, 'KEYS', spec.keys, src.header.keys);
  checkHeader(spec.name, 'ARGV', spec.args, src.header.args);
  checkHeader(spec.name, 'SHARED', spec.shared, src.header.shared);
  const run = luaCommand(redis, spec.name, batchLua(src, spec), 'any');
  const shape = { keysPerItem: spec.keys.length, argsPerItem: spec.args.length };
  return async (rows, shared) => {
    const { keys, args } = batchCall(
      rows.map((r) => ({ keys: spec.keys.map((k) => r.keys[k]), args: spec.args.map((a) => r.args[a]) })),
      shape,
    );
    const answers = replyArray(await run(keys, [...args, ...spec.shared.map((s) => shared[s])]), spec.name);
    return answers.map((answer) => {
      if (Array.isArray(answer) && answer[0] === 'error') return scriptErrorFrom(spec.name, replyString(answer[1], spec.name));
      return spec.parse(answer);
    });
  };
}

/**
 * The KEYS and ARGV of a batch call. KEYS holds each distinct key once (every key is declared, as
 * Redis Cluster wants); ARGV[1] is every item as one msgpack array of rows, a row being the item's key
 * positions in KEYS followed by its arguments (numbers as strings, as ARGV would carry them). One
 * encoded argument instead of ~25 per item is most of what a batch saves on both sides.
 */
export function batchCall(items: readonly BatchItem[], shape: { keysPerItem: number; argsPerItem: number }): { keys: string[]; args: [Buffer] } {
  const keys: string[] = [];
  const position = new Map<string, number>();
  const rows = items.map((item) => {
    if (item.keys.length !== shape.keysPerItem || item.args.length !== shape.argsPerItem) {
      throw new Error(`batchCall: an item has ${item.keys.length} keys and ${item.args.length} args, not ${shape.keysPerItem} and ${shape.argsPerItem}`);
    }
    const row: (number | string | Buffer)[] = [];
    for (const key of item.keys) {
      let at = position.get(key);
      if (at === undefined) {
        at = keys.push(key);
        position.set(key, at);
      }
      row.push(at);
    }
    for (const arg of item.args) row.push(typeof arg === 'number' ? String(arg) : arg);
    return row;
  });
  return { keys, args: [packRows(rows)] };
}

type Cell = number | string | Buffer;

/**
 * msgpack for an array of arrays of small non-negative integers, strings and byte strings, as Redis's
 * Lua `cmsgpack.unpack` reads it. Redis 7.0's cmsgpack predates msgpack's bin types (msgpackr writes a
 * Buffer as bin), so bytes travel as str, which cmsgpack hands to Lua as the same raw bytes.
 */
export function packRows(rows: readonly (readonly Cell[])[]): Buffer {
  const text = new Map<string, number>();
  let size = arrayHeaderSize(rows.length);
  for (const row of rows) {
    size += arrayHeaderSize(row.length);
    for (const cell of row) {
      if (typeof cell === 'number') size += intSize(cell);
      else {
        const n = typeof cell === 'string' ? Buffer.byteLength(cell) : cell.length;
        if (typeof cell === 'string') text.set(cell, n);
        size += strHeaderSize(n) + n;
      }
    }
  }
  const out = Buffer.allocUnsafe(size);
  let at = writeArrayHeader(out, 0, rows.length);
  for (const row of rows) {
    at = writeArrayHeader(out, at, row.length);
    for (const cell of row) {
      if (typeof cell === 'number') at = writeInt(out, at, cell);
      else if (typeof cell === 'string') {
        at = writeStrHeader(out, at, text.get(cell)!);
        at += out.write(cell, at, 'utf8');
      } else {
        at = writeStrHeader(out, at, cell.length);
        at += cell.copy(out, at);
      }
    }
  }
  return out;
}

const arrayHeaderSize = (n: number) => (n < 16 ? 1 : n < 0x10000 ? 3 : 5);
const strHeaderSize = (n: number) => (n < 32 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5);
function intSize(v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`packRows: ${v} is not a small non-negative integer`);
  return v < 0x80 ? 1 : v < 0x10000 ? 3 : 5;
}

function writeArrayHeader(out: Buffer, at: number, n: number): number {
  if (n < 16) return out.writeUInt8(0x90 | n, at);
  if (n < 0x10000) return out.writeUInt16BE(n, out.writeUInt8(0xdc, at));
  return out.writeUInt32BE(n, out.writeUInt8(0xdd, at));
}

function writeStrHeader(out: Buffer, at: number, n: number): number {
  if (n < 32) return out.writeUInt8(0xa0 | n, at);
  if (n < 0x100) return out.writeUInt8(n, out.writeUInt8(0xd9, at));
  if (n < 0x10000) return out.writeUInt16BE(n, out.writeUInt8(0xda, at));
  return out.writeUInt32BE(n, out.writeUInt8(0xdb, at));
}

function writeInt(out: Buffer, at: number, v: number): number {
  if (v < 0x80) return out.writeUInt8(v, at);
  if (v < 0x10000) return out.writeUInt16BE(v, out.writeUInt8(0xcd, at));
  return out.writeUInt32BE(v, out.writeUInt8(0xce, at));
}
