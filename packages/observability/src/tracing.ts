import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Telemetry } from 'bullmq';

export type SpanAttributes = Record<string, string | number | boolean | undefined>;

/** The span a `Tracing.span` callback runs in. */
export interface SpanScope {
  setAttributes(attributes: SpanAttributes): void;
  /** Marks the span as failed (status ERROR) with a short reason; never a body or a credential. */
  fail(reason: string): void;
}

export interface SpanOptions {
  kind: 'client' | 'internal' | 'consumer' | 'producer';
  /** A W3C `traceparent` to continue (a message record carries its request's); else the active span. */
  parent?: string | undefined;
  attributes?: SpanAttributes;
}

/**
 * The relay's view of OpenTelemetry: a few spans around the hot points, W3C context in and out, and
 * BullMQ's own telemetry. With tracing off it is NOOP_TRACING, and nothing of the SDK (nor even
 * `@opentelemetry/api`) is loaded: every method is a plain call-through.
 */
export interface Tracing {
  readonly enabled: boolean;
  /** BullMQ's `telemetry` option for queues and workers (bullmq-otel); undefined when off. */
  readonly bullmq: Telemetry | undefined;
  /**
   * Runs `fn` in a SERVER span for one HTTP request (continuing the caller's `traceparent`, if any),
   * named after `route` (a template, never the URL); the span ends when the response closes.
   */
  serveHttp<T>(req: IncomingMessage, res: ServerResponse, route: string, fn: () => T): T;
  /** Runs `fn` in a new span; the span ends when `fn` settles, failed if it throws. */
  span<T>(name: string, opts: SpanOptions, fn: (span: SpanScope) => Promise<T>): Promise<T>;
  /** Adds attributes to the active span (no-op without one). */
  annotate(attributes: SpanAttributes): void;
  /** The active span as a W3C `traceparent` (to store with a message), or undefined. */
  traceparent(): string | undefined;
  /** The active span as BullMQ job telemetry metadata (`opts.telemetry.metadata`), or undefined. */
  jobMetadata(): string | undefined;
  /** Adds the active span's `traceparent` (and `tracestate`) to outgoing request headers. */
  inject(headers: Record<string, string>): void;
  /** Runs `fn` with `parent` (a `traceparent`) as the active span, so its log lines carry that trace. */
  withParent<T>(parent: string | undefined, fn: () => T): T;
  /** `trace_id`, `span_id`, `trace_flags` of the active span, for every log line (pino mixin). */
  logFields(): Record<string, string>;
  /** Exports what is buffered and stops. Idempotent. */
  shutdown(): Promise<void>;
}

const NOOP_SCOPE: SpanScope = { setAttributes: () => undefined, fail: () => undefined };
const NO_FIELDS: Record<string, string> = Object.freeze({}) as Record<string, string>;

export const NOOP_TRACING: Tracing = Object.freeze({
  enabled: false,
  bullmq: undefined,
  serveHttp: <T>(_req: IncomingMessage, _res: ServerResponse, _route: string, fn: () => T) => fn(),
  span: <T>(_name: string, _opts: SpanOptions, fn: (span: SpanScope) => Promise<T>) => fn(NOOP_SCOPE),
  annotate: () => undefined,
  traceparent: () => undefined,
  jobMetadata: () => undefined,
  inject: () => undefined,
  withParent: <T>(_parent: string | undefined, fn: () => T) => fn(),
  logFields: () => NO_FIELDS,
  shutdown: async () => undefined,
});

export interface TracingOptions {
  /** `service.name` unless OTEL_SERVICE_NAME (or OTEL_RESOURCE_ATTRIBUTES) names one. */
  serviceName: string;
  /** Resource attributes of this process (e.g. its roles). */
  attributes?: Record<string, string>;
}

/**
 * Starts the OpenTelemetry SDK (OTLP/HTTP JSON exporter, batch span processor; both read the standard
 * OTEL_* variables themselves). Loaded on demand: a process with tracing off never imports it.
 */
export async function startTracing(opts: TracingOptions): Promise<Tracing> {
  const { startOtel } = await import('./otel.js');
  return startOtel(opts);
}
