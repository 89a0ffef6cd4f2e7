import type { z } from 'zod';

/** One line naming each invalid field, e.g. `errorRate: Too big: expected number to be <=1`. */
export function issuesText(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : 'body'}: ${i.message}`).join('; ');
}
