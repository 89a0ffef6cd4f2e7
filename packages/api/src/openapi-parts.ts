import { z } from 'zod';
import { ERROR_CODES, codesFor } from './errors.js';

// Building blocks of the OpenAPI document: references, JSON bodies, error responses, parameters.

export type Json = Record<string, unknown>;

export const ref = (id: string): Json => ({ $ref: `#/components/schemas/${id}` });

export function jsonBody(schemaId: string, description: string, extra: Json = {}): Json {
  return { description, content: { 'application/json': { schema: ref(schemaId) } }, ...extra };
}

const REASONS: Record<number, string> = {
  400: 'Bad request',
  401: 'Missing or unknown key',
  403: 'Not allowed for this key',
  404: 'Not found',
  408: 'Request body stalled',
  409: 'Conflict',
  413: 'Body too large',
  415: 'Unsupported media type',
  429: 'Too many requests',
  500: 'Internal error',
  502: 'CBOT failed or could not be reached',
  503: 'Unavailable: retry after Retry-After (with the same Idempotency-Key: a late write is then returned, not repeated)',
  504: 'CBOT did not answer in time',
};

const RETRY_AFTER = { 'Retry-After': { $ref: '#/components/headers/RetryAfter' } };

/** Error responses with the error body, each listing the codes it can carry (limited to `only` when given). */
export function errors(statuses: number[], only?: string[]): Json {
  const out: Json = {};
  for (const status of statuses) {
    const codes = codesFor(status).filter((c) => only === undefined || only.includes(c));
    const list = codes.map((c) => `\`${c}\`: ${ERROR_CODES[c].meaning}`).join('; ');
    out[String(status)] = {
      description: `${REASONS[status] ?? 'Error'}. Codes: ${list}.`,
      ...(status === 429 || status === 503 ? { headers: RETRY_AFTER } : {}),
      content: { 'application/json': { schema: ref('ErrorBody') } },
    };
  }
  return out;
}

/** A parameter whose schema is one zod schema converted on its own (no references). */
export function param(name: string, where: 'query' | 'header' | 'path', schema: z.ZodType, description: string, required = false): Json {
  const { $schema: _s, ...json } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json;
  return { name, in: where, required: where === 'path' || required, description, schema: json };
}

export const bearer = (scheme: 'ApiKey' | 'AdminKey'): Json[] => [{ [scheme]: [] }];
