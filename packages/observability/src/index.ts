export { REDACT_PATHS, chooseLogFormat, createLogger } from './logger.js';
export type { LogFormat, LogFormatSetting, Logger, LoggerOptions } from './logger.js';
export { createMetrics, gaugeFromSource, labelledGaugeFromSource } from './metrics.js';
export type { Metrics } from './metrics.js';
export { OpsServer, readinessWithin } from './ops-server.js';
export type { OpsServerOptions, Readiness } from './ops-server.js';
export { NOOP_TRACING, startTracing } from './tracing.js';
export type { SpanAttributes, SpanOptions, SpanScope, Tracing, TracingOptions } from './tracing.js';
