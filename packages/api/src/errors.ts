import { z } from 'zod';

/**
 * Every `error.code` the relay answers with, with its HTTP status(es) and what it means. The OpenAPI
 * description lists them per response; a new code belongs here first.
 */
export const ERROR_CODES = {
  invalid_json: { statuses: [400], meaning: 'the body is not one JSON document (or repeats a key, or uses __proto__)' },
  invalid_utf8: { statuses: [400], meaning: 'the body is not valid UTF-8' },
  too_deep: { statuses: [400], meaning: 'the body nests deeper than the relay reads' },
  invalid_message: { statuses: [400], meaning: 'the body is not a valid message; `details` names each field' },
  invalid_header: { statuses: [400], meaning: 'a header (Idempotency-Key, X-Relay-Priority, X-Relay-Expires-In, X-Relay-Send-At, X-Relay-Tag, a repeated Authorization) is invalid' },
  send_at_too_far: { statuses: [400], meaning: 'X-Relay-Send-At (or an item\'s sendAt) is more than 30 days ahead' },
  invalid_request: { statuses: [400], meaning: 'the body or query does not have the documented shape; `details` names each field' },
  invalid_query: { statuses: [400], meaning: 'the query is not valid for the route; `details` names each parameter' },
  unknown_channel: { statuses: [400], meaning: 'the body (or `?channel=`) names a channel the relay does not have' },
  invalid_wamid: { statuses: [400], meaning: 'the path does not hold a CBOT message id (1 to 256 of A-Z a-z 0-9 . _ : = + / -)' },
  malformed_multipart: { statuses: [400], meaning: 'the multipart/form-data body has no boundary or is malformed' },
  missing_file: { statuses: [400], meaning: 'the multipart/form-data body has no `file` part' },
  cbot_rejected: { statuses: [400], meaning: "CBOT refused the request; the message quotes CBOT's reason" },
  unknown_template: { statuses: [400], meaning: "the channel's template list has no template of that name and language" },
  template_not_approved: { statuses: [400], meaning: 'the template exists but is not APPROVED (pending, rejected, paused...)' },
  template_parameters: { statuses: [400], meaning: "a header, body or URL-button component's parameter count differs from the template's placeholders; the message names the expected count" },
  request_aborted: { statuses: [400], meaning: 'the client aborted the request' },
  bad_request: { statuses: [400], meaning: 'the request could not be read' },
  unauthorized: { statuses: [401], meaning: 'missing, unknown or unconfigured key or callback credentials' },
  cross_site: { statuses: [403], meaning: 'a queue UI action started by another site\'s page (Sec-Fetch-Site or Origin)', queueUiOnly: true },
  channel_forbidden: { statuses: [403], meaning: 'the key may not use this channel (RELAY_API_KEYS name:key:a|b)' },
  media_not_found: { statuses: [404], meaning: 'CBOT has no media with this id (a CBOT 404 is remembered for 5 min)' },
  not_found: { statuses: [404], meaning: 'no such route, message, dead letter, subscriber or channel (another caller\'s message included)' },
  read_only: { statuses: [405], meaning: 'the queue UI is read-only (QUEUE_UI_WRITE unset)', queueUiOnly: true },
  request_timeout: { statuses: [408], meaning: 'the request body stalled' },
  idempotency_conflict: { statuses: [409], meaning: 'the Idempotency-Key was used with a different body' },
  not_failed: { statuses: [409], meaning: 'the dead letter is no longer failed' },
  not_cancelable: { statuses: [409], meaning: 'the message was already handed to CBOT (or has ended); `details` names its status' },
  body_expired: { statuses: [409], meaning: 'the message body is no longer kept, so it cannot be replayed' },
  subscriber_exists: { statuses: [409], meaning: 'a subscriber with that name exists' },
  no_secret: { statuses: [409], meaning: 'a queue subscriber has no secret to rotate' },
  payload_too_large: { statuses: [413], meaning: "the body is over the size limit (media: WhatsApp's limit for the file's kind)" },
  outside_customer_service_window: {
    statuses: [422],
    meaning: "a free-form message to a recipient whose 24 h customer-service window is closed (WINDOW_POLICY enforce); nothing was queued; `details[0].lastInboundAt` is the recipient's last inbound message (null: none known). A message that waited until its window closed ends `failed` with this code",
  },
  recipient_opted_out: {
    statuses: [422],
    meaning: 'the recipient opted out on this channel (an opt-out keyword, or PUT /v1/opt-outs/{to}); nothing was queued; `details[0].optedOutAt` says when. A queued message ends `failed` with this code',
  },
  unsupported_media_type: { statuses: [415], meaning: 'Content-Type is not application/json (media: not a type WhatsApp takes)' },
  unsupported_encoding: { statuses: [415], meaning: 'the Content-Encoding or charset is not supported' },
  rate_limited: { statuses: [429], meaning: 'over API_KEY_RATE_LIMIT for this key; see Retry-After' },
  too_many_uploads: { statuses: [429], meaning: 'this ingress streams MEDIA_MAX_CONCURRENT_UPLOADS uploads already; see Retry-After' },
  cbot_throttled: { statuses: [429], meaning: "CBOT is throttling media calls; CBOT's Retry-After is passed on" },
  backlog_full: { statuses: [429], meaning: 'the outbound backlog is at its bound; nothing was accepted, see Retry-After' },
  internal: { statuses: [500], meaning: 'an unexpected error (logged with the request id)' },
  unavailable: {
    statuses: [503],
    meaning:
      'Redis is unreachable, or did not answer within REDIS_ANSWER_TIMEOUT_MS (then the write may still complete); retry with the same Idempotency-Key (Retry-After)',
  },
  busy: { statuses: [503], meaning: 'too many request bodies or connections in flight; retry (Retry-After)' },
  replication_timeout: {
    statuses: [503],
    meaning: 'the write reached fewer than REDIS_WAIT_REPLICAS replicas within REDIS_WAIT_TIMEOUT_MS; retry with the same Idempotency-Key, which returns the message (Retry-After)',
  },
  channel_unconfigured: { statuses: [503], meaning: 'the channel has no CBOT base URL and key for media calls' },
  cbot_auth: { statuses: [502], meaning: "CBOT refused the relay's key for this channel" },
  cbot_error: { statuses: [502], meaning: 'CBOT failed (5xx) or answered something unusable' },
  cbot_unreachable: { statuses: [502], meaning: 'CBOT could not be reached' },
  cbot_timeout: { statuses: [504], meaning: 'CBOT did not answer in time (CBOT_TIMEOUT_MS, MEDIA_TIMEOUT_MS)' },
  templates_unavailable: { statuses: [503], meaning: "the channel's template list could not be loaded from CBOT; retry (Retry-After)" },
} as const satisfies Record<string, { statuses: readonly number[]; meaning: string; queueUiOnly?: true }>;
export type ErrorCode = keyof typeof ERROR_CODES;

/** The codes a given status can carry, for the per-response descriptions (the queue UI's own are not API routes'). */
export function codesFor(status: number): ErrorCode[] {
  return (Object.keys(ERROR_CODES) as ErrorCode[]).filter(
    (c) => (ERROR_CODES[c].statuses as readonly number[]).includes(status) && !('queueUiOnly' in ERROR_CODES[c]),
  );
}

export const ErrorDetail = z.object({
  path: z.string().optional().meta({ description: 'dot path of the field (`contacts.0.name.formatted_name`), or the header name; "" is the body itself' }),
  message: z.string(),
  lastInboundAt: z.iso.datetime().nullable().optional().meta({ description: "outside_customer_service_window: the recipient's last inbound message, null when none is known" }),
  optedOutAt: z.iso.datetime().optional().meta({ description: 'recipient_opted_out: when the recipient opted out' }),
});
export type ErrorDetail = z.infer<typeof ErrorDetail>;

/** What every refusal looks like, on every route. */
export const ErrorBody = z.object({
  error: z.object({
    code: z.string().meta({ description: 'machine-readable; see the codes listed on each response', examples: ['invalid_message'] }),
    message: z.string().meta({ description: 'human-readable; never echoes the request' }),
    details: z.array(ErrorDetail).optional(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;
