/**
 * The outbound backlog as the ingress sees it: read from Redis at most every `maxAgeMs`, one read in
 * flight at a time, so backpressure costs no round trip per request. The bound is soft by up to
 * maxAgeMs worth of accepts, which is the price of not serialising every accept on one counter.
 */
export function cachedBacklog(read: () => Promise<number>, now: () => number, maxAgeMs = 200): () => Promise<number> {
  let value = 0;
  let at = -Infinity;
  let inflight: Promise<number> | undefined;
  return async () => {
    if (now() - at < maxAgeMs) return value;
    inflight ??= read()
      .then((v) => {
        value = v;
        at = now();
        return v;
      })
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  };
}
