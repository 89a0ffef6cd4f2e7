import { readFileSync } from 'node:fs';

/**
 * The `.lua` files live in packages/records/lua/, beside src/ and dist/: `../../lua/` from this module
 * is that directory whether it runs from src (tsx, vitest) or from dist (the image ships lua/ too:
 * deploy/docker/runtime-tree.sh).
 */
const LUA_DIR = new URL('../../lua/', import.meta.url);

/** A script file read and its includes resolved. */
export interface LuaSource {
  /** The file name without `.lua`, e.g. `claim`. */
  name: string;
  /** Every included file's text, each once, in the order first included (dependencies first). */
  includes: string;
  /** The file's own text, its include lines removed. */
  body: string;
  /** The names its header gives KEYS[i], ARGV[i] and (batch scripts) SHARED[i], in order. */
  header: { keys: string[]; args: string[]; shared: string[] };
}

const INCLUDE = /^--- @include "([\w/-]+)"\s*$/;
const PLACEHOLDER = /\{\{(\w+)\}\}/g;
const cache = new Map<string, string>();

function read(name: string): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(new URL(`${name}.lua`, LUA_DIR), 'utf8');
    cache.set(name, text);
  }
  return text;
}

/** `{{NAME}}` in a file becomes constants[NAME] (values that live once in TypeScript, e.g. the status ranks). */
function substitute(name: string, text: string, constants: Readonly<Record<string, string>>): string {
  return text.replace(PLACEHOLDER, (_, key: string) => {
    const value = constants[key];
    if (value === undefined) throw new Error(`${name}.lua: no constant {{${key}}}`);
    return value;
  });
}

function headerNames(text: string, label: 'KEYS' | 'ARGV' | 'SHARED'): string[] {
  const names: string[] = [];
  for (const m of text.matchAll(new RegExp(`^\\s*${label}\\[(\\d+)\\]\\s+(\\w+)`, 'gm'))) {
    if (Number(m[1]) !== names.length + 1) throw new Error(`${label}[${m[1]}] out of order`);
    names.push(m[2]!);
  }
  return names;
}

/**
 * Reads lua/<name>.lua and resolves its `--- @include "includes/x"` lines (BullMQ's convention): each
 * included file once per script, its own includes first. The header comment (the first `--[[ ]]`
 * block) names the keys and arguments: `KEYS[1] tat`, `ARGV[1] base`, and for batch scripts the
 * arguments the rows share, `SHARED[1] now`.
 */
export function loadLua(name: string, constants: Readonly<Record<string, string>> = {}): LuaSource {
  const seen = new Set<string>();
  const parts: string[] = [];
  const expand = (file: string, text: string): string => {
    const own: string[] = [];
    for (const line of text.split('\n')) {
      const m = INCLUDE.exec(line);
      if (!m) {
        own.push(line);
        continue;
      }
      const dep = m[1]!;
      if (seen.has(dep)) continue;
      seen.add(dep);
      parts.push(expand(dep, read(dep)));
    }
    return substitute(file, own.join('\n'), constants);
  };
  const text = read(name);
  const body = expand(name, text);
  const comment = /^--\[\[([\s\S]*?)\]\]/m.exec(text)?.[1] ?? '';
  let header;
  try {
    header = { keys: headerNames(comment, 'KEYS'), args: headerNames(comment, 'ARGV'), shared: headerNames(comment, 'SHARED') };
  } catch (err) {
    throw new Error(`${name}.lua header: ${(err as Error).message}`);
  }
  return { name, includes: parts.join('\n'), body, header };
}

/** Throws unless the names a script is called with are the ones its header gives, in the same order. */
export function checkHeader(name: string, label: string, declared: readonly string[], header: readonly string[]): void {
  if (declared.join(',') !== header.join(',')) {
    throw new Error(`${name}.lua: called with ${label} [${declared.join(', ')}], its header says [${header.join(', ')}]`);
  }
}
