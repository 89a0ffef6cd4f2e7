import { pino } from 'pino';
import type { DestinationStream, Logger } from 'pino';

/**
 * Paths that may carry credentials or customer content. Redaction is a safety net: code logs ids and
 * outcomes, never bodies, but a careless `log.info({ req })` must still not leak a key.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["d360-api-key"]',
  'req.headers["idempotency-key"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["d360-api-key"]',
  'authorization',
  'apiKey',
  'key',
  'password',
  'pass',
  'secret',
  'body',
  'text',
  'data',
  '*.apiKey',
  '*.password',
  '*.pass',
  '*.secret',
  '*.body',
  '*.authorization',
];

export interface LoggerOptions {
  level?: string;
  name?: string;
  /** Tests pass a stream to read the JSON lines back. */
  stream?: DestinationStream;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  return pino(
    {
      level: opts.level ?? 'info',
      name: opts.name ?? 'cbot-relay',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    opts.stream,
  );
}

export type { Logger };
