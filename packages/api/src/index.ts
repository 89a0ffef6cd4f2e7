export { CHANNEL_PAUSE_MAX_S, ChannelList, ChannelPauseRequest, ChannelView, channelView } from './channels.js';
export type { ChannelInfo } from './channels.js';
export { DeadLetterList, EventDeadLetter, MessageDeadLetter, ReplayAccepted, ReplayManyRequest, ReplayManyResult } from './dead-letters.js';
export { ERROR_CODES, ErrorBody, ErrorDetail, codesFor } from './errors.js';
export type { ErrorCode } from './errors.js';
export { MediaId, MediaUploaded } from './media.js';
export { OPENAPI_VERSION, jsonSchemas, openApiDocument } from './openapi.js';
export { Health, Readiness } from './ops.js';
export { ChannelQuery, OPT_OUT_DEFAULT_LIMIT, OPT_OUT_MAX_LIMIT, OptOut, OptOutList, OptOutListQuery, RecipientView } from './recipients.js';
export { READ_MAX_BODY_BYTES, ReadAccepted, ReadQuery, ReadRequest, Wamid } from './read-receipts.js';
export { LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT, ListQuery, MessageList, MessageView } from './records.js';
export {
  BATCH_MAX,
  BATCH_MAX_BODY_BYTES,
  STREAM_IN_FLIGHT,
  STREAM_MAX_LINES,
  StreamLine,
  StreamResult,
  BatchEnvelope,
  BatchItem,
  BatchRequest,
  BatchResponse,
  BatchResult,
  CancelTagRequest,
  CancelTagResult,
  ChannelId,
  ExpiresIn,
  Fallback,
  IdempotencyKey,
  MAX_EXPIRES_IN_S,
  MAX_SEND_AHEAD_S,
  Priority,
  RelayId,
  SEND_VARIANTS,
  SendAccepted,
  SendAt,
  SendRequest,
  WindowState,
  Tag,
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
