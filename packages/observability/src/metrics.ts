import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per process; every role registers into it so `/metrics` shows the whole process. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const metrics = {
    registry,
    accepted: new Counter({ name: 'relay_messages_accepted_total', help: 'Send requests made durable (202).', labelNames: ['caller'], registers }),
    rejected: new Counter({ name: 'relay_requests_rejected_total', help: 'Requests answered 4xx/5xx by the ingress.', labelNames: ['route', 'code'], registers }),
    sent: new Counter({ name: 'relay_messages_sent_total', help: 'Messages CBOT accepted.', registers }),
    failed: new Counter({ name: 'relay_messages_failed_total', help: 'Messages that ended failed.', labelNames: ['reason'], registers }),
    expired: new Counter({ name: 'relay_messages_expired_total', help: 'Messages not sent before their expiry.', registers }),
    retried: new Counter({ name: 'relay_send_retries_total', help: 'Send attempts that will be retried.', labelNames: ['kind'], registers }),
    ambiguous: new Counter({
      name: 'relay_ambiguous_resends_total',
      help: 'Sends repeated although CBOT may have accepted the earlier attempt (its answer was lost).',
      registers,
    }),
    sendLatency: new Histogram({
      name: 'relay_cbot_send_seconds',
      help: 'CBOT POST /v1/messages latency.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    acceptToSend: new Histogram({
      name: 'relay_accept_to_sent_seconds',
      help: 'Time from 202 to CBOT accepting the message.',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 120, 600],
      registers,
    }),
    connectionsDropped: new Counter({
      name: 'relay_ingress_connections_dropped_total',
      help: 'Connections closed on arrival because INGRESS_MAX_CONNECTIONS were open.',
      registers,
    }),
    callbacks: new Counter({ name: 'relay_callbacks_received_total', help: 'CBOT callbacks made durable.', registers }),
    events: new Counter({ name: 'relay_events_total', help: 'Events produced from callbacks.', labelNames: ['type'], registers }),
    duplicateEvents: new Counter({ name: 'relay_events_deduplicated_total', help: 'Redelivered callback items dropped.', registers }),
    pushes: new Counter({ name: 'relay_push_deliveries_total', help: 'HTTP subscriber deliveries.', labelNames: ['subscriber', 'outcome'], registers }),
    queueDepth: new Gauge({ name: 'relay_queue_depth', help: 'Jobs waiting, active or delayed.', labelNames: ['queue'], registers }),
    backlog: new Gauge({ name: 'relay_outbound_backlog', help: 'Accepted messages not yet sent, failed or expired.', registers }),
  };
  return metrics;
}

/** Gauges read at scrape time (e.g. the outbound backlog from Redis); a failed read leaves the last value. */
export function gaugeFromSource(gauge: Gauge, read: () => Promise<number>): void {
  (gauge as unknown as { collect?: () => Promise<void> }).collect = async () => {
    try {
      gauge.set(await read());
    } catch {
      // Redis unreachable: /readyz reports it; keep the last value.
    }
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
