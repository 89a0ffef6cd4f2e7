export { RelayError, RelayTimeoutError } from './errors.js';
export { RelayClient, STATUS_RANK } from './relay-client.js';
export type { FetchLike, ListQuery, MessageStatus, Priority, RelayClientOptions, SendOptions, UsageQuery } from './relay-client.js';
export type {
  Attempt,
  AudioMessage,
  BatchRequest,
  BatchResponse,
  ContactsMessage,
  DocumentMessage,
  ErrorBody,
  HistoryEntry,
  ImageMessage,
  InteractiveMessage,
  LocationMessage,
  Message,
  MessageList,
  ReactionMessage,
  SendAccepted,
  SendRequest,
  StickerMessage,
  TemplateList,
  TemplateMessage,
  TextMessage,
  UsageReport,
  VideoMessage,
} from './spec-types.js';
