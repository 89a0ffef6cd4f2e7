import { createRequire } from 'node:module';
import { pino } from 'pino';
import type { DestinationStream, Logger } from 'pino';
import type { PrettyOptions } from 'pino-pretty';

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

/** `json`: one JSON object a line (production, log shippers). `pretty`: pino-pretty's lines for people. */
export type LogFormat = 'json' | 'pretty';
/** `LOG_FORMAT` as configured: `auto` picks pretty on a terminal, JSON otherwise. */
export type LogFormatSetting = LogFormat | 'auto';

/** `auto` is pretty only when stdout is a terminal, so containers, pipes and files get JSON. */
export function chooseLogFormat(setting: LogFormatSetting, stdoutIsTty: boolean): LogFormat {
  if (setting === 'auto') return stdoutIsTty ? 'pretty' : 'json';
  return setting;
}

export interface LoggerOptions {
  level?: string;
  name?: string;
  /** Tests pass a stream to read the lines back; default stdout. */
  stream?: DestinationStream;
  /** Default `json`. */
  format?: LogFormat;
  /** Pretty format only: ANSI colours (for a terminal). Default false. */
  colorize?: boolean;
  /** Fields added to every line (pino `mixin`): the active trace's ids when tracing is on. */
  mixin?: () => object;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const options = {
    level: opts.level ?? 'info',
    name: opts.name ?? 'cbot-relay',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    ...(opts.mixin ? { mixin: opts.mixin } : {}),
  };
  if (opts.format !== 'pretty') return pino(options, opts.stream);
  // Pretty printing formats the JSON line pino has already serialised, so redaction applies first.
  // Synchronous writes to stdout: `log.flush()` before `process.exit` loses nothing, and a terminal
  // does not need the throughput of pino's asynchronous writer.
  const dest = opts.stream ?? pino.destination({ dest: 1, sync: true });
  return pino(options, prettyStream(dest, opts.colorize ?? false));
}

/**
 * A synchronous pretty-printing stream over `dest`. pino-pretty is loaded only here, so a JSON logger
 * (production) never loads it; its stream form is asynchronous (a transform pipeline), its
 * `prettyFactory` is a plain function from a JSON line to text.
 */
function prettyStream(dest: DestinationStream, colorize: boolean): DestinationStream {
  const { prettyFactory } = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
  const options: PrettyOptions = { colorize, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' };
  const prettify = prettyFactory(options);
  return {
    write: (line: string) => {
      dest.write(prettify(line));
    },
  };
}

export type { Logger };
