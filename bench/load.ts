import autocannon from 'autocannon';

export interface ClosedLoopOptions {
  url: string;
  path: string;
  headers: Record<string, string>;
  /** Body of the i-th request (a global counter, so every body is distinct). */
  body: (i: number) => string;
  connections: number;
  /** Seconds; ignored when `amount` is set. */
  durationS?: number;
  /** Exact number of requests, for "accept 100k messages". */
  amount?: number;
  /** Hard stop for an `amount` run, seconds. */
  timeoutS?: number;
}

export interface ClosedLoopResult {
  /** 2xx answers per second over the run. */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  ok: number;
  non2xx: number;
  errors: number;
  durationS: number;
  statusCodes: Record<string, number>;
}

let counter = 0;

/**
 * N keep-alive connections, each sending its next request as soon as the previous answer arrives
 * (autocannon, no pipelining). Throughput counts only 2xx answers: a server that answers 503 fast
 * must not look fast.
 */
export async function closedLoop(o: ClosedLoopOptions): Promise<ClosedLoopResult> {
  const opts: autocannon.Options = {
    url: o.url,
    connections: o.connections,
    pipelining: 1,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        path: o.path,
        headers: { 'content-type': 'application/json', ...o.headers },
        setupRequest: (req) => ({ ...req, body: o.body(counter++) }),
      },
    ],
    ...(o.amount === undefined ? { duration: o.durationS ?? 10 } : { amount: o.amount }),
  };
  let deadline: NodeJS.Timeout | undefined;
  const r = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(opts, (err, result) => (err ? reject(err as Error) : resolve(result)));
    // autocannon has no deadline of its own for `amount` runs; stop() makes it finish with what it has.
    if (o.amount !== undefined && o.timeoutS !== undefined) deadline = setTimeout(() => instance.stop(), o.timeoutS * 1000);
  });
  clearTimeout(deadline);
  const ok = r['2xx'];
  const statusCodes: Record<string, number> = {};
  for (const [code, s] of Object.entries(r.statusCodeStats ?? {})) statusCodes[code] = s.count ?? 0;
  return {
    rps: ok / r.duration,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    ok,
    non2xx: r.non2xx,
    errors: r.errors,
    durationS: r.duration,
    statusCodes,
  };
}
