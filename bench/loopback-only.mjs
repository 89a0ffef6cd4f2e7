// Preloaded into the bench's children (NODE_OPTIONS=--import) so the bench never opens a port beyond
// loopback, whatever a child would bind (the relay children also get HOST=127.0.0.1).
// Plain JS because NODE_OPTIONS imports run before the `--import tsx` loader is registered.
import net from 'node:net';

const original = net.Server.prototype.listen;
const wildcard = (h) => h === undefined || h === null || h === '' || h === '0.0.0.0' || h === '::';

net.Server.prototype.listen = function listen(...args) {
  const [first, second] = args;
  if (first !== null && typeof first === 'object' && !('_handle' in first) && first.path === undefined) {
    if (wildcard(first.host)) args[0] = { ...first, host: '127.0.0.1' };
  } else if (first === undefined || typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    if (typeof second === 'string') {
      if (wildcard(second)) args[1] = '127.0.0.1';
    } else {
      args.splice(0, 1, first ?? 0, '127.0.0.1');
    }
  }
  return original.apply(this, args);
};
