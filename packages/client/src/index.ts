export { RelayError, RelayTimeoutError } from './errors.js';
export { RelayClient, STATUS_RANK } from './relay-client.js';
export type { FetchLike, ListQuery, MediaDownload, MediaOptions, MessageStatus, Priority, RelayClientOptions, SendOptions, UsageQuery } from './relay-client.js';
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
  MediaUploaded,
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
