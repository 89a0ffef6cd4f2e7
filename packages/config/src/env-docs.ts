import type { EnvSchema } from './env-schema.js';

/** Where a variable is listed in docs/configuration.md, in this order. */
export const ENV_GROUPS = {
  redis: 'Redis',
  http: 'HTTP: the ingress, keys and limits',
  cbot: 'CBOT: the channel(s) and callbacks',
  dispatch: 'Sending: dispatch, backlog, retention',
  inbound: 'Inbound: callbacks, events, subscribers',
  process: 'Processes and logs',
  tracing: 'Tracing (OpenTelemetry, read by the SDK)',
  simulator: 'The bundled simulator',
} as const;

export interface EnvDoc {
  group: keyof typeof ENV_GROUPS;
  /** Markdown, one paragraph: what the variable does and what it is checked against. */
  meaning: string;
  /** Markdown: the value when unset, or what happens then. */
  default: string;
}

/**
 * Every variable of the relay's environment schema, documented once. The compiler requires an entry
 * per schema key (adding a variable without its documentation does not build), and
 * docs/configuration.md is generated from this table (`pnpm docs:config`; a test fails while it is stale).
 */
export const ENV_DOCS = {
  REDIS_URL: { group: 'redis', meaning: "Redis URL", default: "`redis://127.0.0.1:6379` (auto-started locally by `pnpm start` if absent)" },
  REDIS_CLUSTER: { group: 'redis', meaning: "`1`/`true`: treat `REDIS_URL` as a Cluster seed; needs a hash-tagged `QUEUE_PREFIX` (see [Redis Cluster](deploy.md#redis-cluster))", default: "`false`" },
  OUTBOUND_PARTITIONS: { group: 'redis', meaning: "how many partitions the outbound side (recipient queues, scheduler, records) is split into, 1–64; fixed by the first relay on a Redis (see [Redis Cluster](deploy.md#redis-cluster))", default: "what Redis holds; on a fresh Redis `1`, or `12` with `REDIS_CLUSTER`" },
  REDIS_ANSWER_TIMEOUT_MS: { group: 'redis', meaning: "every send, batch and callback request is answered (202/207/200, or 503 `unavailable` with `Retry-After: 1`) within this many ms of its body arriving, however slow or frozen Redis is; a 503 after this wait may still be accepted later, so retry with the same `Idempotency-Key` (see [Resilience](resilience.md)); `/readyz` answers 503 within it too", default: "`2000`" },
  REDIS_WAIT_REPLICAS: { group: 'redis', meaning: "the accept (single and batch) and the callback ack wait until this many replicas have the write (Redis `WAIT`) before answering; fewer in time: 503 `replication_timeout` (see [Resilience](resilience.md)); `0`: no wait", default: "`0`" },
  REDIS_WAIT_TIMEOUT_MS: { group: 'redis', meaning: "how long a write waits for `REDIS_WAIT_REPLICAS` replicas", default: "`500`" },
  PORT: { group: 'http', meaning: "ingress HTTP port", default: "`8080`" },
  HOST: { group: 'http', meaning: "address the ingress listens on (`127.0.0.1` keeps it off the network)", default: "`0.0.0.0`" },
  RELAY_API_KEYS: { group: 'http', meaning: "`name:key,…` accepted on the send API (key ≥ 8 chars)", default: "none: every call refused with 401 saying why" },
  RELAY_ADMIN_KEYS: { group: 'http', meaning: "`name:key,…` for `/v1/dead-letters`, `/v1/subscribers`, `/v1/channels`, `/metrics` on `PORT`, the queue UI `/admin/queues` (Bearer, or Basic with the key as password) and the console `/console` (signed in with a key)", default: "none: admin endpoints refuse every call" },
  QUEUE_UI_WRITE: { group: 'http', meaning: "`1`/`true`: the queue UI at `/admin/queues` may act (retry, promote, clean, pause, add…); otherwise it is read-only and any write is 405 `read_only`", default: "`false`" },
  CONSOLE_RUNBOOK_URL: { group: 'http', meaning: "where your copy of docs/operations.md is published (e.g. its page in your Git host): the console's overview links each alert to `<url>#<alert name lowercased>` (see [console.md](console.md))", default: "unset: the overview names each runbook section without a link" },
  CBOT_BASE_URL: { group: 'cbot', meaning: "CBOT base URL; the dispatcher appends `v1/messages`", default: "required by the dispatcher; `pnpm start` uses the simulator when unset" },
  CBOT_API_KEY: { group: 'cbot', meaning: "CBOT API key", default: "required by the dispatcher (`sim-key` with the bundled simulator)" },
  CBOT_API_KEY_HEADER: { group: 'cbot', meaning: "`Authorization` sends `Bearer <key>`; another name (e.g. `D360-API-KEY`) sends the key as is", default: "`Authorization`" },
  CBOT_TIMEOUT_MS: { group: 'cbot', meaning: "timeout of one HTTP call to CBOT", default: "`10000`" },
  CBOT_APP_SECRET: { group: 'cbot', meaning: "callbacks carrying `X-Hub-Signature-256` are authenticated by that HMAC alone (invalid → 401). The header counts only when the secret is set and it is non-empty; a malformed one (not `sha256=` + 64 hex) is 401 before the body is read", default: "unset" },
  CBOT_WEBHOOK_USER: { group: 'cbot', meaning: "user name of the Basic credentials CBOT must present on callbacks (set `CBOT_WEBHOOK_PASS` too, or neither)", default: "unset: callbacks unauthenticated, startup warns" },
  CBOT_WEBHOOK_PASS: { group: 'cbot', meaning: "password of the Basic credentials CBOT must present on callbacks (set `CBOT_WEBHOOK_USER` too, or neither)", default: "unset: callbacks unauthenticated, startup warns" },
  PUBLIC_WEBHOOK_URL: { group: 'cbot', meaning: "the callback URL every ingress keeps registered with CBOT (`POST {CBOT_BASE_URL}/v1/configs/webhook`, with the Basic header when configured), retrying until CBOT takes it and re-checking every 5 min (see [operations.md](operations.md)); needs `CBOT_BASE_URL` and `CBOT_API_KEY` on the ingress too, else startup stops naming them. `pnpm cbot-relay webhook register` registers it once, on demand", default: "unset: nothing registered, `/readyz` says `\"webhook\": \"not configured\"`" },
  SUBSCRIPTIONS_FILE: { group: 'inbound', meaning: "JSON file of downstream subscribers, seeded into Redis at startup (see [inbound.md](inbound.md))", default: "none: one queue subscriber `default`, every event, when Redis holds no subscriber" },
  CHANNELS_FILE: { group: 'cbot', meaning: "JSON file of CBOT channels (numbers), see [Channels](channels.md); replaces the `CBOT_*` connection variables above (`CBOT_TIMEOUT_MS` still applies), and `pnpm start` starts no simulator", default: "unset: the `CBOT_*` variables form the one channel `default`" },
  TEMPLATES_REFRESH_S: { group: 'cbot', meaning: "each channel's template list (`GET {base}v1/configs/templates`) is reloaded when older than this many seconds (5–86400), and at once after a `template.status` event; template sends are checked against it at accept (see [templates-and-usage.md](templates-and-usage.md))", default: "`600`" },
  CBOT_RATE_LIMIT: { group: 'cbot', meaning: "messages per second to CBOT, across all dispatchers", default: "`80`" },
  WINDOW_POLICY: { group: 'dispatch', meaning: "a free-form send (any type but `template`) to a recipient whose 24 h customer-service window is closed: `enforce` answers 422 `outside_customer_service_window` (and such a message that waited until its window closed is not sent), `warn` and `off` send it; a channel's `windowPolicy` wins (see [whatsapp-rules.md](whatsapp-rules.md))", default: "`enforce`" },
  OPT_OUT_KEYWORDS: { group: 'inbound', meaning: "comma list: an inbound text that is exactly one of them (trimmed, case-folded) opts its sender out of the channel: sends to it are 422 `recipient_opted_out`, its queued messages fail (see [whatsapp-rules.md](whatsapp-rules.md#opt-out))", default: "`STOP,UNSUBSCRIBE`" },
  OPT_IN_KEYWORDS: { group: 'inbound', meaning: "comma list: an inbound text that is exactly one of them opts its sender back in", default: "`START`" },
  RELAY_ROLES: { group: 'process', meaning: "`ingress`, `dispatcher`, `fanout` (comma list)", default: "all three" },
  QUEUE_PREFIX: { group: 'redis', meaning: "BullMQ prefix of every queue and relay key", default: "`cbot-relay` (`{cbot-relay}` with `REDIS_CLUSTER`)" },
  LOG_LEVEL: { group: 'process', meaning: "pino level", default: "`info`" },
  LOG_FORMAT: { group: 'process', meaning: "`json`: one JSON object a line; `pretty`: human-readable lines ([pino-pretty](https://github.com/pinojs/pino-pretty)), same redaction, colours only on a terminal; `auto`: `pretty` when stdout is a terminal, `json` otherwise (pipes, files, containers; the image sets `json`)", default: "`auto`" },
  DISPATCH_MAX_ATTEMPTS: { group: 'dispatch', meaning: "failed attempts (network, timeout, 408, 5xx, transient codes) before a message ends `failed`", default: "`10`" },
  DISPATCH_MAX_AGE_S: { group: 'dispatch', meaning: "a message not sent this long after acceptance ends `failed`", default: "`86400`" },
  QUALITY_PAUSE_S: { group: 'dispatch', meaning: "how long a channel pauses after WhatsApp's `131048` (spam rate limit), doubling on a repeat within 24 h up to 24 h; 1–86400 (see [WhatsApp's rules](whatsapp-rules.md#error-codes-that-protect-the-number))", default: "`900`" },
  DISPATCH_BACKOFF_BASE_MS: { group: 'dispatch', meaning: "first retry delay; each retry doubles it up to `DISPATCH_BACKOFF_MAX_MS`, with equal jitter; a longer `Retry-After` wins", default: "`1000`" },
  DISPATCH_BACKOFF_MAX_MS: { group: 'dispatch', meaning: "the longest retry delay (see `DISPATCH_BACKOFF_BASE_MS`)", default: "`60000`" },
  RECONCILE_WINDOW_S: { group: 'dispatch', meaning: "how long a message whose last attempt's answer was lost (dispatcher killed or frozen, connection broken after the request was written) waits for a status callback identifying it before it is sent again; its recipient's later messages wait behind it. `0`: resend at once. See [Resilience](resilience.md#no-double-message-reconciliation)", default: "`30`" },
  DISPATCH_CONCURRENCY: { group: 'dispatch', meaning: "sends in flight per dispatcher process (each to a different recipient). One process sends at most concurrency ÷ CBOT latency msg/s (512 at 300 ms: ~1,700); more processes add to it. Change it, or the number of processes, at any time: nothing is tied to a process", default: "`512`" },
  OUTBOUND_BACKLOG_MAX: { group: 'dispatch', meaning: "open messages (accepted, not yet sent, failed or expired) at which the send API answers 429 `backlog_full`; checked in the same Redis step as each accept, so it is exact across any number of ingress processes", default: "`1000000`" },
  OUTBOUND_BACKLOG_MAX_BYTES: { group: 'dispatch', meaning: "the same bound in message body bytes (the bodies Redis holds for open messages); `0` = none", default: "`536870912` (512 MiB)" },
  RELAY_API_KEY_WEIGHTS: { group: 'dispatch', meaning: "`name:weight,…`: a caller's share of the send rate against the other callers with pending messages at the same priority (see [api.md](api.md#dispatch-semantics)); names from `RELAY_API_KEYS`, weights 1–1000", default: "every caller 1" },
  INGRESS_MAX_BODY_BYTES: { group: 'http', meaning: "largest send request body (413 `payload_too_large` above); a batch may be up to 1 MiB with each item within this", default: "`65536`" },
  WEBHOOK_MAX_BODY_BYTES: { group: 'http', meaning: "largest CBOT callback body (413 above); WhatsApp sends up to 3 MB", default: "`3145728` (3 MiB)" },
  MESSAGE_RETENTION_DAYS: { group: 'dispatch', meaning: "how long message records (status, attempts, history), their bodies and their list-index entries are kept: a record for this long after its last change, an index entry for this long after acceptance (see [api.md](api.md))", default: "`30`" },
  HISTORY_DATABASE_URL: { group: 'dispatch', meaning: "PostgreSQL URL (`postgres://user:pass@host:5432/db`) of the message history: every record is copied there in batches, off the hot path, and Redis keeps it only for `HOT_RETENTION`; reads of older messages (`GET /v1/messages/{id}`, the list) come from PostgreSQL. The schema is migrated at start. See [history.md](history.md)", default: "unset: records live in Redis alone for `MESSAGE_RETENTION_DAYS`" },
  HOT_RETENTION: { group: 'dispatch', meaning: "with `HISTORY_DATABASE_URL`: how long Redis keeps a record (and its list-index entries) after its last change; `48h`, `2d`, `3600` (seconds), at least 1 h. Replaces `MESSAGE_RETENTION_DAYS`/`RECORD_TTL_S` then", default: "`48h`" },
  RECORD_TTL_S: { group: 'dispatch', meaning: "the same retention in seconds (min 60); when set it overrides `MESSAGE_RETENTION_DAYS`", default: "unset" },
  FANOUT_CONCURRENCY: { group: 'inbound', meaning: "callbacks processed at once per fanout process", default: "`16`" },
  PUSH_CONCURRENCY: { group: 'inbound', meaning: "per HTTP subscriber and fanout process: deliveries in flight at once", default: "`8`" },
  PUSH_TIMEOUT_MS: { group: 'inbound', meaning: "timeout of one HTTP push to a subscriber (then it is retried)", default: "`10000`" },
  PUSH_MAX_ATTEMPTS: { group: 'inbound', meaning: "attempts of one push before it goes to the subscriber's dead letters", default: "`24`" },
  EVENT_DEDUPE_TTL_S: { group: 'inbound', meaning: "how long a redelivered callback is recognised (CBOT retries ~24 h, Cloud up to 7 days)", default: "`604800`" },
  CALLBACK_MAX_ITEMS: { group: 'inbound', meaning: "messages + statuses of one callback (valid or not, across all its entries) that become events of their own; the rest go out as one `unrecognized` event with `reason: \"callback_max_items\"` (see [inbound.md](inbound.md)), counted in `relay_callback_items_over_cap_total`", default: "`1000`" },
  EVENT_CONTACT_MAX_BYTES: { group: 'inbound', meaning: "a sender's `contacts[]` entry is copied whole into its events up to this many bytes of JSON; above, only `{wa_id, profile: {name}, truncated: true}`", default: "`4096`" },
  SUBSCRIBER_MAX_WAITING: { group: 'inbound', meaning: "per queue subscriber: waiting events kept; past it the oldest waiting ones are dropped (counted per subscriber). A subscriber's `maxWaiting` in `SUBSCRIPTIONS_FILE` overrides it; `0` = unbounded", default: "`1000000`" },
  SUBSCRIBER_MAX_AGE_S: { group: 'inbound', meaning: "per queue subscriber: waiting events older than this are dropped; `maxAgeS` in `SUBSCRIPTIONS_FILE` overrides it; `0` = unbounded", default: "`604800` (7 days)" },
  API_KEY_RATE_LIMIT: { group: 'http', meaning: "send requests per second per API key, in total across every ingress process (counted in Redis), a lone caller included; over it the send API answers 429 `rate_limited` with `Retry-After` (see [api.md](api.md)). Fixed 1-second windows, so up to twice the rate can pass around a window edge; a fraction below 1 is one request per ⌈1/rate⌉ s, above 1 it is rounded to whole requests. `0` = off. The default is above what one ingress process serves (~8,000 req/s on 2 cores), so it cuts a runaway caller without capping a busy one: set it to what each caller should send", default: "`20000`" },
  OPS_PORT: { group: 'process', meaning: "every process, whatever its roles, serves `/healthz`, `/readyz`, `/metrics` on this port, unauthenticated (bound to `HOST`; keep it off public networks). Several processes on one host need one each: `0` takes any free port (logged as `opsPort` in the start line), `off` serves none", default: "`9464`" },
  INGRESS_MAX_CONNECTIONS: { group: 'http', meaning: "open connections the ingress holds; further ones are closed as they arrive, before a byte is read, and counted in `relay_ingress_connections_dropped_total`", default: "`1024`" },
  INGRESS_HEADERS_TIMEOUT_MS: { group: 'http', meaning: "a request's headers must arrive within this (then 408 and the connection closes)", default: "`5000`" },
  INGRESS_REQUEST_TIMEOUT_MS: { group: 'http', meaning: "the whole request, headers and body, must arrive within this (≥ the headers timeout); cuts a body trickled just fast enough to dodge the idle timeout", default: "`15000`" },
  INGRESS_BODY_IDLE_TIMEOUT_MS: { group: 'http', meaning: "a request body that sends nothing for this long gets 408 and the connection closes (only while the body is arriving: waiting on Redis afterwards is not the client's fault)", default: "`5000`" },
  INGRESS_BODY_BUFFER_BYTES: { group: 'http', meaning: "request bodies the ingress holds at once, summed over all requests; a read that would pass it is 503 `busy` (`Retry-After: 1`, connection closed). Bounds what signed-looking callbacks (which must be read before the HMAC can refuse them) can cost: without it 1,024 connections × 3 MiB. 24 MiB keeps 150 stalled 3 MiB callbacks within ~70 MB of idle RSS (32 MiB: up to ~88 MB); see [Resilience](resilience.md#large-callbacks-and-the-held-bodies-budget)", default: "`25165824` (24 MiB)" },
  MEDIA_MAX_CONCURRENT_UPLOADS: { group: 'http', meaning: "media uploads (`POST /v1/media`) one ingress process streams to CBOT at once; one more is 429 `too_many_uploads` with `Retry-After: 1`. Uploads are streamed (a few hundred KiB in flight each), so this bounds CBOT's and the network's share, not memory (see [media.md](media.md))", default: "`16`" },
  MEDIA_TIMEOUT_MS: { group: 'http', meaning: "a whole media upload or download must be through within this; the ingress's request timeout is this long for `POST /v1/media` and `POST /v1/messages/stream` only (other requests keep `INGRESS_REQUEST_TIMEOUT_MS`)", default: "`300000` (5 min: 100 MB at ~350 KB/s)" },
  MEDIA_IDLE_TIMEOUT_MS: { group: 'http', meaning: "a media upload or download moving no byte for this long is cut (an upload gets 408 `request_timeout`); replaces `INGRESS_BODY_IDLE_TIMEOUT_MS` for `POST /v1/media` and `POST /v1/messages/stream`, since an upload also waits while CBOT reads slowly", default: "`30000`" },
  SHUTDOWN_TIMEOUT_MS: { group: 'process', meaning: "SIGTERM deadline", default: "`30000`" },} satisfies Record<keyof typeof EnvSchema.shape, EnvDoc>;

/** Variables read outside the schema: by the OpenTelemetry SDK, or by `pnpm start` for the simulator. */
export const OTHER_ENV_DOCS: Record<string, EnvDoc> = {
  SIM_PORT: { group: 'simulator', meaning: "port of the bundled simulator under `pnpm start`", default: "`9090`" },
  OTEL_EXPORTER_OTLP_ENDPOINT: { group: 'tracing', meaning: "OTLP/HTTP collector; setting it (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) turns tracing on (see [operations.md](operations.md#tracing))", default: "unset: tracing off" },
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: { group: 'tracing', meaning: "OTLP/HTTP collector for traces only; setting it turns tracing on (see [operations.md](operations.md#tracing))", default: "unset: tracing off" },
  OTEL_TRACES_EXPORTER: { group: 'tracing', meaning: "`otlp` turns tracing on (endpoint `http://localhost:4318`), `none` off", default: "unset" },
  OTEL_SDK_DISABLED: { group: 'tracing', meaning: "`true`: tracing off whatever else is set", default: "`false`" },
  OTEL_EXPORTER_OTLP_PROTOCOL: { group: 'tracing', meaning: "only `http/json`", default: "`http/json`" },
};
