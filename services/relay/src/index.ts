export { startRelay } from './relay.js';
export type { Relay, RelayOptions } from './relay.js';
