/**
 * Every error a script call can end in, one code each (BullMQ's error-code enum, as strings): the
 * Redis error replies a script can raise, matched by the reply's first word, and the wrapper's own.
 */
export const ScriptErrorCode = {
  /** A key the script writes holds another type (a stray key under the prefix). */
  WrongType: 'WRONGTYPE',
  /** Redis is out of memory (maxmemory with noeviction). */
  OutOfMemory: 'OOM',
  /** A replica or a read-only Redis. */
  ReadOnly: 'READONLY',
  /** Redis Cluster: a key of another slot (a prefix without a hash tag). */
  CrossSlot: 'CROSSSLOT',
  /** The script ran past lua-time-limit and was killed, or Redis is busy running another. */
  Busy: 'BUSY',
  /** Any other error reply from inside the script (a Lua runtime error: a bug). */
  Script: 'ERR',
  /** The reply had a shape the script's parse does not accept (a bug, or a script of another version). */
  BadReply: 'BAD_REPLY',
} as const;
export type ScriptErrorCode = (typeof ScriptErrorCode)[keyof typeof ScriptErrorCode];

const BY_PREFIX: ReadonlyMap<string, ScriptErrorCode> = new Map(
  Object.values(ScriptErrorCode)
    .filter((c) => c !== ScriptErrorCode.BadReply)
    .map((c) => [c, c]),
);

/** A script call that ended in an error reply (or a reply it could not read); `message` keeps Redis's text. */
export class ScriptError extends Error {
  readonly code: ScriptErrorCode;
  readonly script: string;

  constructor(script: string, code: ScriptErrorCode, message: string, options?: { cause?: unknown }) {
    super(`${script}: ${message}`, options);
    this.name = 'ScriptError';
    this.script = script;
    this.code = code;
  }
}

/** The typed error for a Redis error reply's text (`WRONGTYPE Operation against…`, `ERR user_script:…`). */
export function scriptErrorFrom(script: string, message: string, cause?: unknown): ScriptError {
  // Errors raised inside a script come back as "ERR ... script: ...: WRONGTYPE ..." on some versions.
  const word = /\b(WRONGTYPE|OOM|READONLY|CROSSSLOT|BUSY)\b/.exec(message)?.[1] ?? message.split(' ', 1)[0]!;
  return new ScriptError(script, BY_PREFIX.get(word) ?? ScriptErrorCode.Script, message, cause === undefined ? undefined : { cause });
}

/** True for the errors ioredis gives for a Redis error reply (not for a lost connection or a timeout). */
export function isReplyError(err: unknown): err is Error {
  return err instanceof Error && err.name === 'ReplyError';
}
