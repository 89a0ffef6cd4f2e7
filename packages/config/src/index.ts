export { ROLES, WINDOW_POLICY_VALUES } from './env-schema.js';
export type { NamedKey, Role, WindowPolicyValue } from './env-schema.js';
export { CHANNEL_ID, DEFAULT_CHANNEL, parseChannels } from './channels.js';
export type { ChannelApi, ChannelConfig } from './channels.js';
export { ConfigError, channelsOf, loadConfig, requireCbot, requireChannelCbot } from './load-config.js';
export type { RelayConfig } from './load-config.js';
