import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './index.js';

const tracing = (env: Record<string, string>) => loadConfig(env).tracing.enabled;

describe('tracing from the standard OTEL_* variables', () => {
  it('is off unless an exporter or an OTLP endpoint is set', () => {
    expect(tracing({})).toBe(false);
    expect(tracing({ OTEL_SERVICE_NAME: 'relay', OTEL_BSP_SCHEDULE_DELAY: '100' })).toBe(false);
    expect(tracing({ OTEL_EXPORTER_OTLP_ENDPOINT: ' ' })).toBe(false);
  });

  it('is on with an OTLP endpoint, or OTEL_TRACES_EXPORTER=otlp (the SDK default endpoint)', () => {
    expect(tracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://tempo:4318' })).toBe(true);
    expect(tracing({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://otel.example/v1/traces' })).toBe(true);
    expect(tracing({ OTEL_TRACES_EXPORTER: 'otlp' })).toBe(true);
    expect(tracing({ OTEL_TRACES_EXPORTER: 'OTLP', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })).toBe(true);
  });

  it('is off with OTEL_TRACES_EXPORTER=none or OTEL_SDK_DISABLED=true, whatever else is set', () => {
    expect(tracing({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://tempo:4318' })).toBe(false);
    expect(tracing({ OTEL_SDK_DISABLED: 'TRUE', OTEL_TRACES_EXPORTER: 'otlp' })).toBe(false);
    // Per the spec only "true" is true.
    expect(tracing({ OTEL_SDK_DISABLED: 'false', OTEL_TRACES_EXPORTER: 'otlp' })).toBe(true);
    // Disabled: nothing else is looked at, a protocol the relay lacks included.
    expect(tracing({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'zipkin', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toBe(false);
  });

  it('refuses an exporter, protocol or endpoint it cannot serve, naming the variable', () => {
    const refused = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as Error).message;
      }
      return 'accepted';
    };
    expect(refused({ OTEL_TRACES_EXPORTER: 'console' })).toMatch(/^OTEL_TRACES_EXPORTER: /);
    expect(refused({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toMatch(/^OTEL_EXPORTER_OTLP_PROTOCOL: only http\/json/);
    expect(refused({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' })).toMatch(/^OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: /);
    expect(refused({ OTEL_EXPORTER_OTLP_ENDPOINT: 'tempo:4318' })).toMatch(/^OTEL_EXPORTER_OTLP_ENDPOINT: expected an http\(s\) URL/);
  });
});
