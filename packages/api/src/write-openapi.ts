import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderClientTypes } from './client-types.js';
import { openApiDocument } from './openapi.js';

/** `pnpm openapi`: writes the committed copy, docs/openapi.json, and the client's types, both from the zod schemas. */
export const OPENAPI_FILE = fileURLToPath(new URL('../../../docs/openapi.json', import.meta.url));
export const CLIENT_TYPES_FILE = fileURLToPath(new URL('../../client/src/spec-types.ts', import.meta.url));

export function renderOpenApi(): string {
  return `${JSON.stringify(openApiDocument(), null, 2)}\n`;
}

export function renderClientTypesFile(): string {
  return renderClientTypes(openApiDocument());
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(OPENAPI_FILE, renderOpenApi());
  writeFileSync(CLIENT_TYPES_FILE, renderClientTypesFile());
  process.stdout.write(`wrote ${OPENAPI_FILE} and ${CLIENT_TYPES_FILE}\n`);
}
