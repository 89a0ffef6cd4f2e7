import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per process; every role registers into it so `/metrics` shows the whole process. */
export function createMetrics() {
  const registry = new Registry();
  // The event-loop-lag sampler wakes the process every 10 ms by default: ~0.4 % of a core on an idle
  // process. Sampling every 500 ms still gives dozens of samples per scrape interval.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 500 });
  const registers = [registry];
  const metrics = {
    registry,
    accepted: new Counter({ name: 'relay_messages_accepted_total', help: 'Send requests made durable (202).', labelNames: ['caller'], registers }),
    rejected: new Counter({ name: 'relay_requests_rejected_total', help: 'Requests answered 4xx/5xx by the ingress.', labelNames: ['route', 'code'], registers }),
    sent: new Counter({ name: 'relay_messages_sent_total', help: 'Messages CBOT accepted.', registers }),
    cbotAnswers: new Counter({
      name: 'relay_cbot_answers_total',
      help: 'Answers to send attempts by outcome (sent, permanent, throttled_sender, throttled_recipient, retryable) and WhatsApp error code (a code of the retry policy, "other" or "none"), per channel (CBOT number; ids come from the configuration).',
      labelNames: ['outcome', 'code', 'channel'],
      registers,
    }),
    readReceipts: new Counter({
      name: 'relay_read_receipts_total',
      help: 'Read receipts (POST /v1/messages/{wamid}/read) by outcome: accepted and duplicate at the ingress; sent, retried, throttled, failed and dropped (max age, window closed) at the dispatcher; per channel.',
      labelNames: ['channel', 'outcome'],
      registers,
    }),
    failed: new Counter({ name: 'relay_messages_failed_total', help: 'Messages that ended failed.', labelNames: ['reason'], registers }),
    expired: new Counter({ name: 'relay_messages_expired_total', help: 'Messages not sent before their expiry.', registers }),
    canceled: new Counter({ name: 'relay_messages_canceled_total', help: 'Messages canceled before they were handed to CBOT (DELETE /v1/messages/{id} or by tag).', labelNames: ['caller'], registers }),
    scheduled: new Counter({ name: 'relay_messages_scheduled_total', help: 'Send requests accepted with an X-Relay-Send-At ahead (status scheduled).', labelNames: ['caller'], registers }),
    retried: new Counter({ name: 'relay_send_retries_total', help: 'Send attempts that will be retried.', labelNames: ['kind'], registers }),
    ambiguous: new Counter({
      name: 'relay_ambiguous_resends_total',
      help: 'Sends repeated although CBOT may have accepted the earlier attempt (its answer was lost).',
      registers,
    }),
    reconciled: new Counter({
      name: 'relay_reconciled_total',
      help: 'Messages whose attempt had an unknown outcome (answer lost), by how it ended: matched_opaque or matched_recipient (a status identified it; not sent again), resent (no status within RECONCILE_WINDOW_S).',
      labelNames: ['outcome'],
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
    callbackItemsOverCap: new Counter({
      name: 'relay_callback_items_over_cap_total',
      help: 'Callback messages and statuses past CALLBACK_MAX_ITEMS, delivered inside one unrecognized event.',
      registers,
    }),
    subscriberDropped: new Counter({
      name: 'relay_subscriber_events_dropped_total',
      help: 'Waiting events a queue subscriber never took, removed by its retention limit.',
      labelNames: ['subscriber', 'reason'],
      registers,
    }),
    subscriberWaiting: new Gauge({ name: 'relay_subscriber_waiting_events', help: 'Events waiting for a subscriber.', labelNames: ['subscriber'], registers }),
    subscriberOldestAge: new Gauge({
      name: 'relay_subscriber_oldest_waiting_seconds',
      help: 'Age of the oldest event waiting for a subscriber (0 when none waits).',
      labelNames: ['subscriber'],
      registers,
    }),
    backlog: new Gauge({ name: 'relay_outbound_backlog', help: 'Accepted messages not yet sent, failed or expired.', registers }),
    pending: new Gauge({
      name: 'relay_outbound_pending',
      help: 'Messages queued for CBOT (the one in flight per recipient included), per caller and priority.',
      labelNames: ['caller', 'priority'],
      registers,
    }),
    oldestAge: new Gauge({ name: 'relay_outbound_oldest_age_seconds', help: 'Age of the oldest accepted message not yet sent, failed or expired.', registers }),
    queueWait: new Histogram({
      name: 'relay_outbound_wait_seconds',
      help: 'From acceptance to the first send attempt, per caller and priority.',
      labelNames: ['caller', 'priority'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800],
      registers,
    }),
    channelState: new Gauge({
      name: 'relay_channel_state',
      help: 'Each channel\'s state, read from Redis at scrape time: 1 for the current one of active, paused, stopped (0 for the others).',
      labelNames: ['channel', 'state'],
      registers,
    }),
    inFlight: new Gauge({ name: 'relay_sends_in_flight', help: 'Sends to CBOT in flight in this process.', registers }),
    redisRtt: new Gauge({
      name: 'relay_redis_ping_seconds',
      help: "Round trip of a PING from this process to Redis, measured at scrape time (the last value stays while Redis does not answer; /readyz says so).",
      registers,
    }),
    historyWritten: new Counter({ name: 'relay_history_written_total', help: 'Message records copied to the history store (PostgreSQL).', registers }),
    historyErrors: new Counter({ name: 'relay_history_write_errors_total', help: 'History writer passes that failed (PostgreSQL or Redis); the records stay dirty and are retried.', registers }),
    historyLag: new Gauge({
      name: 'relay_history_lag_seconds',
      help: 'Age of the oldest record change not yet copied to the history store (processes running the writer).',
      registers,
    }),
    messagesPriced: new Counter({
      name: 'relay_messages_priced_total',
      help: 'Messages whose cost a status callback reported, counted once per message, per channel, caller, WhatsApp pricing category and type (GET /v1/usage has the same counts over time).',
      labelNames: ['channel', 'caller', 'category', 'type'],
      registers,
    }),
    templateLoadFailures: new Counter({
      name: 'relay_templates_load_failures_total',
      help: "Failed loads of a channel's template list from CBOT; while none is loaded, template sends are accepted unchecked.",
      labelNames: ['channel'],
      registers,
    }),
    templateUnchecked: new Counter({
      name: 'relay_template_sends_unchecked_total',
      help: "Template sends accepted without the template check because the channel's template list could not be loaded.",
      labelNames: ['channel'],
      registers,
    }),
    webhookRegistered: new Gauge({
      name: 'relay_webhook_registered',
      help: 'Ingress with PUBLIC_WEBHOOK_URL: 1 while CBOT is known to hold the callback URL, 0 while it is being registered.',
      registers,
    }),
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

/** A labelled gauge read at scrape time: every series is replaced by what `read` returns. */
export function labelledGaugeFromSource<L extends string>(gauge: Gauge<L>, read: () => Promise<{ labels: Record<L, string>; value: number }[]>): void {
  (gauge as unknown as { collect?: () => Promise<void> }).collect = async () => {
    try {
      const series = await read();
      gauge.reset();
      for (const { labels, value } of series) gauge.set(labels, value);
    } catch {
      // Redis unreachable: /readyz reports it; keep the last values.
    }
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
