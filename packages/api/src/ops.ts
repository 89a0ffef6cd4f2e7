import { z } from 'zod';

export const Health = z.object({ status: z.literal('ok') });

/** `/readyz`: 200 ready or 503 not_ready, with each check (Redis, each local worker, the callback URL). */
export const Readiness = z.object({
  status: z.enum(['ready', 'not_ready']),
  checks: z.record(z.string(), z.union([z.boolean(), z.string()])),
});
