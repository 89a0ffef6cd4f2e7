import { startCbotSim } from '@cbot-relay/cbot-sim';
import type { CbotSim } from '@cbot-relay/cbot-sim';
import type { Logger } from '@cbot-relay/observability';

export const DEV_SIM_API_KEY = 'sim-key';

/**
 * `pnpm start` without CBOT_BASE_URL: run the bundled simulator on SIM_PORT (9090), or reuse the one
 * another local relay process already started there (so `RELAY_ROLES=dispatcher pnpm start` joins it).
 * It shares the relay's heap (96 MB under `pnpm start`), so it keeps only the latest 5,000 messages
 * for /_sim/messages; its counters cover everything.
 */
export async function startDevSim(port: number, apiKey: string, log: Logger): Promise<{ baseUrl: string; sim?: CbotSim }> {
  const baseUrl = `http://127.0.0.1:${port}/`;
  try {
    const sim = await startCbotSim({ port, host: '127.0.0.1', apiKey, maxRecorded: 5_000, logger: log.child({ role: 'cbot-sim' }) });
    return { baseUrl: sim.url, sim };
  } catch (err) {
    const alive = await fetch(new URL('healthz', baseUrl)).then((r) => r.ok, () => false);
    if (alive) {
      log.info({ url: baseUrl }, 'using the CBOT simulator already running on this machine');
      return { baseUrl };
    }
    throw err;
  }
}
