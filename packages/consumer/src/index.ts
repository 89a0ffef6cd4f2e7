export { createConsumer } from './consumer.js';
export type { Consumer, ConsumerErrorInfo, ConsumerOptions, HandlerContext } from './consumer.js';
export { consumerAclRules, createConsumerAcl } from './consumer-acl.js';
export type { ConsumerAclOptions } from './consumer-acl.js';
export { RELAY_EVENT_TYPES, RelayEvent } from '@cbot-relay/messages';
export type { RelayEventType } from '@cbot-relay/messages';
