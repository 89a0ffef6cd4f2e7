import { pino } from 'pino';
import { simOptionsFromEnv, startCbotSim, type CbotSim } from './index.js';

const logger = pino({ name: 'cbot-sim', level: process.env.LOG_LEVEL ?? 'info' });

let sim: CbotSim;
try {
  sim = await startCbotSim({ ...simOptionsFromEnv(process.env), logger });
} catch (err) {
  // Config errors name the variable; one line is clearer than a stack.
  logger.fatal(err instanceof Error ? err.message : String(err));
  process.exit(1);
}
logger.info({ url: sim.url, webhook: sim.webhook()?.url ?? null, knobs: sim.knobs() }, 'cbot simulator listening');

let stopping = false;
const stop = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'cbot simulator stopping');
  sim.close().then(
    () => process.exit(0),
    (err: unknown) => {
      logger.error({ err }, 'cbot simulator close failed');
      process.exit(1);
    },
  );
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
