import type { IncomingMessage, ServerResponse } from 'node:http';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, isSpanContextValid, propagation, trace } from '@opentelemetry/api';
import type { AttributeValue, Attributes, Context, Exception, Span, TimeInput, Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE, ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { Telemetry } from 'bullmq';
import type { SpanAttributes, SpanOptions, SpanScope, Tracing, TracingOptions } from './tracing.js';

const KIND: Record<SpanOptions['kind'], SpanKind> = {
  client: SpanKind.CLIENT,
  internal: SpanKind.INTERNAL,
  consumer: SpanKind.CONSUMER,
  producer: SpanKind.PRODUCER,
};

/**
 * BullMQ operations that follow a job: adding it, processing it, and how an attempt ends. The rest
 * (getNextJob on every poll, the stalled-job checker, lock renewals) runs on timers, is not about any
 * message, and would put a root trace per worker every few seconds into the tracing backend.
 */
const BULLMQ_SPANS = new Set(['add', 'addBulk', 'process', 'complete', 'retry', 'delay', 'fail', 'retryJobs']);

/** A BullMQ span that is not recorded and leaves the context as it was. */
const SKIPPED_SPAN = {
  setSpanOnContext: (ctx: Context) => ctx,
  setAttribute: () => undefined,
  setAttributes: () => undefined,
  addEvent: () => undefined,
  recordException: () => undefined,
  end: () => undefined,
};

/**
 * BullMQ's `telemetry` option over @opentelemetry/api, as the bullmq-otel package does it (same
 * metadata: the W3C propagation fields as JSON in the job's `opts.telemetry.metadata`, so a consumer
 * using bullmq-otel continues the trace), with only the message-path spans recorded. Written here
 * rather than imported: bullmq lists bullmq-otel as an optional peer, and adding it to one package
 * makes pnpm install a second copy of bullmq for the packages that can see it.
 */
function bullmqTelemetry(tracer: Tracer): Telemetry<Context> {
  const wrap = (span: Span) => ({
    setSpanOnContext: (ctx: Context) => trace.setSpan(ctx, span),
    setAttribute: (key: string, value: AttributeValue) => void span.setAttribute(key, value),
    setAttributes: (attributes: Attributes) => void span.setAttributes(attributes),
    addEvent: (name: string, attributes?: Attributes) => void span.addEvent(name, attributes),
    recordException: (exception: Exception, time?: TimeInput) => span.recordException(exception, time),
    end: () => span.end(),
  });
  return {
    contextManager: {
      with: (ctx, fn) => context.with(ctx, fn),
      active: () => context.active(),
      root: () => ROOT_CONTEXT,
      getMetadata: (ctx) => {
        const carrier: Record<string, string> = {};
        propagation.inject(ctx, carrier);
        return JSON.stringify(carrier);
      },
      fromMetadata: (active, metadata) => {
        try {
          return propagation.extract(active, JSON.parse(metadata) as Record<string, string>);
        } catch {
          return active; // metadata written by something else: start afresh rather than fail the job
        }
      },
    },
    tracer: {
      startSpan: (name, options, ctx) => {
        const space = name.indexOf(' ');
        const op = space === -1 ? name : name.slice(0, space);
        if (!BULLMQ_SPANS.has(op)) return SKIPPED_SPAN;
        return wrap(tracer.startSpan(name, { kind: options?.kind as number as SpanKind }, ctx));
      },
    },
  };
}

export async function startOtel(opts: TracingOptions): Promise<Tracing> {
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (the env detector) win over the relay's defaults.
  const detected = detectResources({ detectors: [envDetector] });
  await detected.waitForAsyncAttributes?.();
  const resource = resourceFromAttributes({ [ATTR_SERVICE_NAME]: opts.serviceName, ...opts.attributes }).merge(detected);
  // The exporter reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT/HEADERS/TIMEOUT, the processor OTEL_BSP_*.
  const provider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())] });
  // Registers the W3C trace-context propagator and the AsyncLocalStorage context manager.
  provider.register();
  const tracer = trace.getTracer('cbot-relay');
  const bullmq = bullmqTelemetry(trace.getTracer('bullmq'));

  const scope = (span: Span): SpanScope => ({
    setAttributes: (attributes) => span.setAttributes(clean(attributes)),
    fail: (reason) => span.setStatus({ code: SpanStatusCode.ERROR, message: reason }),
  });

  const parentContext = (parent: string | undefined): Context =>
    parent === undefined ? context.active() : propagation.extract(context.active(), { traceparent: parent });

  let shutting: Promise<void> | undefined;
  return {
    enabled: true,
    bullmq,
    serveHttp: (req: IncomingMessage, res: ServerResponse, route: string, fn) => {
      const parent = propagation.extract(context.active(), req.headers);
      const method = req.method ?? 'GET';
      const span = tracer.startSpan(
        `${method} ${route}`,
        { kind: SpanKind.SERVER, attributes: { [ATTR_HTTP_REQUEST_METHOD]: method, [ATTR_HTTP_ROUTE]: route } },
        parent,
      );
      res.once('close', () => {
        span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, res.statusCode);
        if (res.statusCode >= 500 || !res.writableFinished) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      });
      return context.with(trace.setSpan(parent, span), fn);
    },
    span: (name, o, fn) => {
      const span = tracer.startSpan(name, { kind: KIND[o.kind], attributes: clean(o.attributes ?? {}) }, parentContext(o.parent));
      return context.with(trace.setSpan(context.active(), span), async () => {
        try {
          return await fn(scope(span));
        } catch (err) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
          throw err;
        } finally {
          span.end();
        }
      });
    },
    annotate: (attributes) => trace.getActiveSpan()?.setAttributes(clean(attributes)),
    traceparent: () => {
      const carrier: Record<string, string> = {};
      propagation.inject(context.active(), carrier);
      return carrier.traceparent;
    },
    jobMetadata: () => (trace.getActiveSpan() === undefined ? undefined : bullmq.contextManager.getMetadata(context.active())),
    inject: (headers) => propagation.inject(context.active(), headers),
    withParent: (parent, fn) => (parent === undefined ? fn() : context.with(parentContext(parent), fn)),
    logFields: (): Record<string, string> => {
      const sc = trace.getActiveSpan()?.spanContext();
      if (sc === undefined || !isSpanContextValid(sc)) return {};
      return { trace_id: sc.traceId, span_id: sc.spanId, trace_flags: `0${sc.traceFlags.toString(16)}` };
    },
    shutdown: () => (shutting ??= provider.shutdown().catch(() => undefined)),
  };
}

/** OpenTelemetry drops undefined values with a warning; leave them out instead. */
function clean(attributes: SpanAttributes): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(attributes)) if (v !== undefined) out[k] = v;
  return out;
}
