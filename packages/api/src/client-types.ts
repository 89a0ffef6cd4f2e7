import type { Json } from './openapi-parts.js';

/**
 * TypeScript declarations for `@cbot-relay/client`, generated from the OpenAPI document's component
 * schemas (so the client's types are the spec's), covering the subset of JSON Schema the document
 * uses: objects, arrays, const/enum, unions (oneOf/anyOf/allOf), type lists, references.
 */
export const CLIENT_TYPES = [
  'SendRequest',
  'TextMessage',
  'ImageMessage',
  'AudioMessage',
  'VideoMessage',
  'DocumentMessage',
  'StickerMessage',
  'LocationMessage',
  'ContactsMessage',
  'InteractiveMessage',
  'TemplateMessage',
  'ReactionMessage',
  'SendAccepted',
  'ReadRequest',
  'ReadAccepted',
  'BatchRequest',
  'BatchResponse',
  'CancelTagResult',
  'Message',
  'Attempt',
  'HistoryEntry',
  'MessageList',
  'TemplateList',
  'UsageReport',
  'ErrorBody',
  'Fallback',
  'WindowState',
  'Recipient',
  'OptOut',
  'OptOutList',
  'Channel',
  'ChannelList',
  'ChannelPauseRequest',
  'MediaUploaded',
];

const PRIMITIVE: Record<string, string> = { string: 'string', number: 'number', integer: 'number', boolean: 'boolean', null: 'null' };
const ident = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function typeOf(schema: Json, indent: string): string {
  if (typeof schema.$ref === 'string') return schema.$ref.replace('#/components/schemas/', '');
  if ('const' in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
  for (const key of ['oneOf', 'anyOf'] as const) {
    const options = schema[key];
    // An anyOf beside `properties` only states "one of these is required" (id or link): the object decides.
    if (Array.isArray(options) && !(key === 'anyOf' && schema.properties)) return options.map((o) => paren(typeOf(o as Json, indent))).join(' | ');
  }
  if (Array.isArray(schema.allOf)) return schema.allOf.map((o) => paren(typeOf(o as Json, indent))).join(' & ');
  if (Array.isArray(schema.type)) return schema.type.map((t) => typeOf({ ...schema, type: t }, indent)).join(' | ');
  switch (schema.type) {
    case 'array':
      return `${paren(typeOf((schema.items as Json | undefined) ?? {}, indent))}[]`;
    case 'object':
      return objectType(schema, indent);
    case undefined:
      return schema.properties ? objectType(schema, indent) : 'unknown';
    default:
      return PRIMITIVE[String(schema.type)] ?? 'unknown';
  }
}

function objectType(schema: Json, indent: string): string {
  const props = (schema.properties as Record<string, Json> | undefined) ?? {};
  const required = new Set((schema.required as string[] | undefined) ?? []);
  const inner = `${indent}  `;
  const lines = Object.entries(props).map(([name, prop]) => {
    const doc = typeof prop.description === 'string' ? `${inner}/** ${prop.description.replaceAll('*/', '*\\/')} */\n` : '';
    const key = ident.test(name) ? name : JSON.stringify(name);
    return `${doc}${inner}${key}${required.has(name) ? '' : '?'}: ${typeOf(prop, inner)};`;
  });
  // Open objects (unknown keys kept, as the relay forwards them) stay open in TypeScript too.
  const additional = schema.additionalProperties;
  if (additional !== undefined && additional !== false) lines.push(`${inner}[key: string]: unknown;`);
  if (lines.length === 0) return 'Record<string, unknown>';
  return `{\n${lines.join('\n')}\n${indent}}`;
}

const paren = (t: string) => (t.includes(' | ') || t.includes(' & ') ? `(${t})` : t);

export function renderClientTypes(doc: Json): string {
  const schemas = (doc.components as { schemas: Record<string, Json> }).schemas;
  const out = ['// Generated from docs/openapi.json by `pnpm openapi` (packages/api/src/client-types.ts). Do not edit.', ''];
  for (const name of CLIENT_TYPES) {
    const schema = schemas[name];
    if (!schema) throw new Error(`the document has no component ${name}`);
    if (typeof schema.description === 'string') out.push(`/** ${schema.description} */`);
    out.push(`export type ${name} = ${typeOf(schema, '')};`, '');
  }
  return out.join('\n');
}
