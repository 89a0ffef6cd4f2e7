export { markReadRequest, messageBody, messagesPath } from './api-flavour.js';
export type { CbotApi } from './api-flavour.js';
export { CbotClient } from './cbot-client.js';
export type { CbotClientOptions } from './cbot-client.js';
export { CODE_POLICY, classifyNetworkError, classifyReadResponse, classifyResponse, parseRetryAfter } from './classify.js';
export type { ReadOutcome, SendError, SendOutcome } from './classify.js';
export { callbackAuthHeaders } from './callback-auth-headers.js';
