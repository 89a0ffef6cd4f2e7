import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { describe, expect, it } from 'vitest';
import { OUTBOUND_TYPES, validateOutboundMessage } from '@cbot-relay/messages';
import { openApiDocument } from './openapi.js';
import { SpecValidator } from '@cbot-relay/testing';
import { CLIENT_TYPES_FILE, OPENAPI_FILE, renderClientTypesFile, renderOpenApi } from './write-openapi.js';

const SAMPLES = fileURLToPath(new URL('../../messages/src/testdata/samples/', import.meta.url));
const samples = (dir: string) =>
  readdirSync(join(SAMPLES, dir))
    .filter((f) => f.endsWith('.json'))
    .map((f) => [f, JSON.parse(readFileSync(join(SAMPLES, dir, f), 'utf8')) as unknown] as const);

const doc = openApiDocument();
const spec = new SpecValidator(doc);

describe('docs/openapi.json', () => {
  it('is current: regenerate it with `pnpm openapi` after changing a schema', () => {
    expect(readFileSync(OPENAPI_FILE, 'utf8') === renderOpenApi(), 'docs/openapi.json is stale: run `pnpm openapi`').toBe(true);
    expect(readFileSync(CLIENT_TYPES_FILE, 'utf8') === renderClientTypesFile(), 'packages/client/src/spec-types.ts is stale: run `pnpm openapi`').toBe(true);
  });

  it('passes the Redocly linter (recommended rules) with no error or warning', async () => {
    // Health, readiness and the docs routes have no client error to describe.
    const config = await createConfig({ extends: ['recommended'], rules: { 'operation-4xx-response': 'off' } });
    const problems = await lintFromString({ source: renderOpenApi(), absoluteRef: 'openapi.json', config });
    expect(problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`)).toEqual([]);
  });

  it('describes every route of the contract', () => {
    const routes = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(routes.sort()).toEqual(
      [
        'POST /v1/messages',
        'GET /v1/messages',
        'POST /v1/messages/batch',
        'POST /v1/messages/stream',
        'POST /v1/messages/{wamid}/read',
        'GET /v1/messages/{id}',
        'GET /v1/recipients/{to}',
        'GET /v1/opt-outs',
        'PUT /v1/opt-outs/{to}',
        'DELETE /v1/opt-outs/{to}',
        'DELETE /v1/messages/{id}',
        'POST /v1/messages/cancel',
        'POST /v1/media',
        'GET /v1/media/{id}',
        'GET /v1/templates',
        'GET /v1/usage',
        'GET /v1/dead-letters',
        'POST /v1/dead-letters/{id}/replay',
        'POST /v1/dead-letters/replay',
        'GET /v1/subscribers',
        'POST /v1/subscribers',
        'GET /v1/subscribers/{name}',
        'PATCH /v1/subscribers/{name}',
        'DELETE /v1/subscribers/{name}',
        'POST /v1/subscribers/{name}/rotate-secret',
        'GET /v1/channels',
        'POST /v1/channels/{id}/pause',
        'POST /v1/channels/{id}/resume',
        'POST /webhooks/cbot',
        'POST /webhooks/cbot/{channel}',
        'GET /healthz',
        'GET /readyz',
        'GET /metrics',
        'GET /admin/queues',
        'GET /openapi.json',
        'GET /docs',
      ].sort(),
    );
    const schemas = Object.keys((doc.components as { schemas: object }).schemas);
    for (const type of OUTBOUND_TYPES) expect(schemas).toContain(`${type[0]!.toUpperCase()}${type.slice(1)}Message`);
  });
});

describe('the send request schema in the document', () => {
  it.each(samples('outbound/valid'))('accepts %s', (_name, body) => {
    expect(spec.component('SendRequest', body)).toEqual([]);
    expect(spec.component('SendRequest', { ...(body as object), channel: 'sales' })).toEqual([]);
  });

  it.each(samples('outbound/invalid'))('refuses %s', (_name, sample) => {
    expect(spec.component('SendRequest', (sample as { body: unknown }).body)).not.toEqual([]);
  });

  it('refuses a channel that is not an id, and takes a batch of valid items with their own keys', () => {
    const text = { to: '905551112233', type: 'text', text: { body: 'hi' } };
    expect(spec.component('SendRequest', { ...text, channel: 'no spaces' })).not.toEqual([]);
    const fallback = { type: 'template', template: { name: 'hello', language: { code: 'tr' } } };
    expect(spec.component('SendRequest', { ...text, fallback })).toEqual([]);
    expect(spec.component('SendRequest', { ...text, fallback: { ...fallback, type: 'text' } })).not.toEqual([]);
    expect(spec.component('BatchRequest', { messages: [{ ...text, idempotencyKey: 'k-1' }, text] })).toEqual([]);
    expect(spec.component('BatchRequest', { messages: [] })).not.toEqual([]);
    expect(spec.component('BatchRequest', { messages: [{ ...text, to: 5 }] })).not.toEqual([]);
  });

  it('agrees with the relay on what one emoji is, where JSON Schema can only approximate a grapheme', () => {
    for (const emoji of ['', '👍', '👍🏽', '🇹🇷', '👨‍👩‍👧', '❤️', '1️⃣', '🏴󠁧󠁢󠁳󠁣󠁴󠁿', '👍👍', '🇹🇷🇹🇷', 'ab', '👍 ']) {
      const body = { to: '905551112233', type: 'reaction', reaction: { message_id: 'wamid.X', emoji } };
      expect([emoji, spec.component('SendRequest', body).length === 0]).toEqual([emoji, validateOutboundMessage(body).ok]);
    }
  });
});

describe('the callback schema in the document', () => {
  it.each(samples('inbound'))('accepts %s', (_name, body) => {
    expect(spec.component('Callback', body)).toEqual([]);
  });
});
