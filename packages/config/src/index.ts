export { ROLES } from './env-schema.js';
export type { NamedKey, Role } from './env-schema.js';
export { ConfigError, loadConfig, requireCbot } from './load-config.js';
export type { RelayConfig } from './load-config.js';
