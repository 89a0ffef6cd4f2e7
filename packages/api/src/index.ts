export { DeadLetterList, EventDeadLetter, MessageDeadLetter, ReplayAccepted, ReplayManyRequest, ReplayManyResult } from './dead-letters.js';
export { ERROR_CODES, ErrorBody, ErrorDetail, codesFor } from './errors.js';
export type { ErrorCode } from './errors.js';
export { MediaId, MediaUploaded } from './media.js';
export { OPENAPI_VERSION, jsonSchemas, openApiDocument } from './openapi.js';
export { Health, Readiness } from './ops.js';
export { LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT, ListQuery, MessageList, MessageView } from './records.js';
export {
  BATCH_MAX,
  BATCH_MAX_BODY_BYTES,
  BatchEnvelope,
  BatchItem,
  BatchRequest,
  BatchResponse,
  BatchResult,
  ChannelId,
  ExpiresIn,
  IdempotencyKey,
  MAX_EXPIRES_IN_S,
  Priority,
  RelayId,
  SEND_VARIANTS,
  SendAccepted,
  SendRequest,
} from './send.js';
export { secretFingerprint, subscriberView } from './subscriber-view.js';
export {
  CreateSubscriberRequest,
  HttpSubscriber,
  MAX_OVERLAP_S,
  PatchSubscriberRequest,
  QueueSubscriber,
  RotateSecretRequest,
  RotateSecretResult,
  SECRET_MAX_BYTES,
  SECRET_MIN_BYTES,
  Subscriber,
  SubscriberCreated,
  SubscriberList,
  SubscriberName,
  WebhookSecret,
} from './subscribers.js';
export { Template, TemplateList, TemplatesQuery, USAGE_DEFAULT_DAYS, USAGE_MAX_RANGE_DAYS, UsageItem, UsageQuery, UsageReport } from './templates-usage.js';
export { Callback, CallbackAccepted, CloudCallback, Event, OnPremisesCallback } from './webhooks.js';
