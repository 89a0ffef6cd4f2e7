/**
 * Exit codes, one per kind of failure, so scripts can tell them apart:
 * 0 ok · 1 the operation failed · 2 usage (bad arguments, invalid configuration) · 3 not found ·
 * 4 Redis or CBOT cannot be reached.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, notFound: 3, unreachable: 4 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure the CLI reports as one line on stderr with its exit code; never a stack trace. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    readonly exitCode: ExitCode,
    message: string,
  ) {
    super(message);
  }
}

export const usageError = (message: string) => new CliError(EXIT.usage, message);
export const notFound = (message: string) => new CliError(EXIT.notFound, message);
export const unreachable = (message: string) => new CliError(EXIT.unreachable, message);
export const failed = (message: string) => new CliError(EXIT.failed, message);

/** ioredis' and Node's ways of saying the connection is gone (the command may not have run). */
const CONNECTION_LOST = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|EPIPE|Connection is closed|Stream isn't writeable|max retries per request|Reached the max retries/i;

/** Any error thrown by a command, as the CLI reports it. */
export function toCliError(err: unknown): CliError {
  if (err instanceof CliError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (CONNECTION_LOST.test(message)) return unreachable(`Redis: ${message}`);
  return failed(message);
}
