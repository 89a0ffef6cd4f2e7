import { ConfigError } from './load-config.js';

/**
 * Whether this process traces, from the standard OpenTelemetry variables (the SDK reads the rest —
 * endpoint, headers, OTEL_BSP_*, OTEL_SERVICE_NAME — itself). Off unless asked for:
 * OTEL_TRACES_EXPORTER=otlp, or an OTLP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) with no OTEL_TRACES_EXPORTER; OTEL_TRACES_EXPORTER=none or
 * OTEL_SDK_DISABLED=true turns it off whatever else is set.
 *
 * Only OTLP over HTTP with JSON bodies is built in, so another exporter or protocol is refused at
 * startup rather than silently sending something the collector does not expect.
 */
export function tracingFromEnv(env: Record<string, string | undefined>): { enabled: boolean } {
  const value = (name: string) => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  // The spec's booleans: only "true" (any case) is true.
  if (value('OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return { enabled: false };
  const exporters = value('OTEL_TRACES_EXPORTER')?.toLowerCase().split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const e of exporters ?? []) {
    if (e !== 'otlp' && e !== 'none') throw new ConfigError(`OTEL_TRACES_EXPORTER: expected otlp or none, got "${e}"`);
  }
  const endpoints = ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_EXPORTER_OTLP_ENDPOINT'];
  const enabled = exporters === undefined ? endpoints.some((n) => value(n) !== undefined) : exporters.includes('otlp');
  if (!enabled) return { enabled };
  for (const name of endpoints) {
    const v = value(name);
    if (v !== undefined && !/^https?:\/\/[^/]/i.test(v)) throw new ConfigError(`${name}: expected an http(s) URL`);
  }
  for (const name of ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL']) {
    const v = value(name);
    if (v !== undefined && v !== 'http/json') {
      throw new ConfigError(`${name}: only http/json is supported (the relay exports OTLP over HTTP with JSON), got "${v}"`);
    }
  }
  return { enabled };
}
