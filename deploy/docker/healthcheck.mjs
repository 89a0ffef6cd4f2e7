// The image's HEALTHCHECK (and compose's): GET /readyz on this container's ops port, OPS_PORT
// (default 9464), which every role serves. Exit 0 when it answers 2xx, 1 otherwise.
// usage: healthcheck.mjs [path] [port]   (the bundled simulator: healthcheck.mjs /healthz 9090)
const port = process.argv[3] ?? process.env.OPS_PORT ?? '9464';
if (!/^[1-9][0-9]{0,4}$/.test(port)) {
  // `off` serves nothing and `0` a port only the process's start line names: nothing to probe.
  process.stderr.write(`healthcheck: OPS_PORT=${port} is no fixed port to probe\n`);
  process.exit(1);
}
// The ops server listens on HOST (all interfaces by default): probe loopback unless HOST names one address.
const bound = process.env.HOST;
const host = bound === undefined || bound === '' || bound === '0.0.0.0' || bound === '::' ? '127.0.0.1' : bound;
const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}${process.argv[2] ?? '/readyz'}`;
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
  if (!res.ok) process.stderr.write(`healthcheck: ${url} answered ${res.status}: ${(await res.text()).slice(0, 500)}\n`);
  process.exit(res.ok ? 0 : 1);
} catch (err) {
  process.stderr.write(`healthcheck: ${url}: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
