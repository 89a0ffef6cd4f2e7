import { z } from 'zod';
import type { FieldIssue } from './field-issue.js';
import { isJsonObject, ownValue } from './json-object.js';

/**
 * One template as CBOT lists it (`GET {base}v1/configs/templates`): On-Premises `waba_templates[]`
 * (status in lower case, `language` a code) or Cloud `data[]` (status in upper case). Only what the
 * accept-time check reads is required; everything else is kept as CBOT sent it.
 */
export const CbotTemplate = z.looseObject({
  name: z.string().min(1),
  language: z.string().min(1),
  status: z.string().optional(),
  components: z.array(z.unknown()).optional(),
});

/** Some CBOTs give `language` as `{"code": "en_US"}`: read as the code, the rest of the entry as given. */
function withLanguageCode(t: unknown): unknown {
  if (!isJsonObject(t)) return t;
  const language = ownValue(t, 'language');
  const code = isJsonObject(language) ? ownValue(language, 'code') : undefined;
  return typeof code === 'string' ? { ...t, language: code } : t;
}
export type CbotTemplate = z.infer<typeof CbotTemplate>;

/** The templates in a CBOT answer, either shape; undefined when it is neither. Entries that are not templates are skipped. */
export function templatesFromAnswer(body: unknown): CbotTemplate[] | undefined {
  if (!isJsonObject(body)) return undefined;
  const list = ownValue(body, 'waba_templates') ?? ownValue(body, 'data');
  if (!Array.isArray(list)) return undefined;
  return list.flatMap((t) => {
    const parsed = CbotTemplate.safeParse(withLanguageCode(t));
    return parsed.success ? [parsed.data] : [];
  });
}

/**
 * What the accept-time check needs of a template: its status, and the number of distinct
 * placeholders per component (`header`, `body`, and per button index; null where the component takes
 * no text parameters the relay can count, e.g. a media header).
 */
export interface TemplateShape {
  name: string;
  language: string;
  status: string;
  header: number | null;
  body: number;
  buttons: (number | null)[];
}

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g;

/** Distinct `{{n}}` (or named `{{first_name}}`) placeholders in a text: `{{1}} {{1}}` is one parameter. */
export function countPlaceholders(text: unknown): number {
  if (typeof text !== 'string') return 0;
  const seen = new Set<string>();
  for (const m of text.matchAll(PLACEHOLDER)) seen.add(m[1]!);
  return seen.size;
}

export function templateShape(t: CbotTemplate): TemplateShape {
  const shape: TemplateShape = { name: t.name, language: t.language, status: (t.status ?? '').toUpperCase(), header: 0, body: 0, buttons: [] };
  for (const c of t.components ?? []) {
    if (!isJsonObject(c)) continue;
    const type = String(ownValue(c, 'type') ?? '').toUpperCase();
    if (type === 'HEADER') {
      const format = String(ownValue(c, 'format') ?? 'TEXT').toUpperCase();
      shape.header = format === 'TEXT' ? countPlaceholders(ownValue(c, 'text')) : null;
    } else if (type === 'BODY') {
      shape.body = countPlaceholders(ownValue(c, 'text'));
    } else if (type === 'BUTTONS') {
      const buttons = ownValue(c, 'buttons');
      if (!Array.isArray(buttons)) continue;
      // Only a URL button's link takes text parameters; other buttons are not counted here.
      shape.buttons = buttons.map((b) => (isJsonObject(b) && String(ownValue(b, 'type') ?? '').toUpperCase() === 'URL' ? countPlaceholders(ownValue(b, 'url')) : null));
    }
  }
  return shape;
}

/** Key of a template in a lookup: name and language code. */
export const templateKey = (name: string, language: string): string => `${name}\n${language}`;

/** The channel's templates as the check reads them. */
export interface TemplateIndex {
  byKey: ReadonlyMap<string, TemplateShape>;
  /** Languages each name exists in (for the error's detail). */
  languages: ReadonlyMap<string, readonly string[]>;
}

export function indexTemplates(list: readonly CbotTemplate[]): TemplateIndex {
  const byKey = new Map<string, TemplateShape>();
  const languages = new Map<string, string[]>();
  for (const t of list) {
    byKey.set(templateKey(t.name, t.language), templateShape(t));
    const langs = languages.get(t.name) ?? [];
    langs.push(t.language);
    languages.set(t.name, langs);
  }
  return { byKey, languages };
}

export type TemplateRefusal = { code: 'unknown_template' | 'template_not_approved' | 'template_parameters'; message: string; details: FieldIssue[] };

const shown = (s: string) => (s.length > 64 ? `${s.slice(0, 64)}…` : s);

/**
 * A validated `template` send against the channel's templates: undefined when it may go, else why
 * not. Checks in order: the name and language exist; the template is APPROVED; each header, body and
 * URL-button component carries as many parameters as the template has distinct placeholders (a
 * component left out counts as 0 parameters).
 */
export function checkTemplateSend(template: unknown, index: TemplateIndex): TemplateRefusal | undefined {
  if (!isJsonObject(template)) return undefined;
  const name = ownValue(template, 'name');
  const language = ownValue(template, 'language');
  const code = isJsonObject(language) ? ownValue(language, 'code') : undefined;
  if (typeof name !== 'string' || typeof code !== 'string') return undefined;
  const shape = index.byKey.get(templateKey(name, code));
  if (shape === undefined) {
    const langs = index.languages.get(name);
    return langs === undefined
      ? { code: 'unknown_template', message: `this channel has no template named "${shown(name)}"`, details: [{ path: 'template.name', message: 'unknown template' }] }
      : {
          code: 'unknown_template',
          message: `template "${shown(name)}" has no language "${shown(code)}"`,
          details: [{ path: 'template.language.code', message: `languages: ${langs.slice(0, 20).join(', ')}` }],
        };
  }
  if (shape.status !== 'APPROVED') {
    return {
      code: 'template_not_approved',
      message: `template "${shown(name)}" (${code}) is ${shape.status || 'of unknown status'}, not APPROVED`,
      details: [{ path: 'template.name', message: `status ${shape.status || 'unknown'}` }],
    };
  }
  return parameterMismatch(ownValue(template, 'components'), shape);
}

function parameterMismatch(components: unknown, shape: TemplateShape): TemplateRefusal | undefined {
  const list = Array.isArray(components) ? components : [];
  const given = { header: 0, body: 0, headerAt: -1, bodyAt: -1 };
  const buttons = new Map<number, { count: number; at: number }>();
  list.forEach((c, at) => {
    if (!isJsonObject(c)) return;
    const params = ownValue(c, 'parameters');
    const count = Array.isArray(params) ? params.length : 0;
    const type = String(ownValue(c, 'type') ?? '').toLowerCase();
    if (type === 'header') Object.assign(given, { header: count, headerAt: at });
    else if (type === 'body') Object.assign(given, { body: count, bodyAt: at });
    else if (type === 'button') {
      const index = Number(ownValue(c, 'index'));
      if (Number.isInteger(index) && index >= 0) buttons.set(index, { count, at });
    }
  });
  const refuse = (component: string, at: number, expected: number, got: number): TemplateRefusal => ({
    code: 'template_parameters',
    message: `the template's ${component} takes ${expected} parameter${expected === 1 ? '' : 's'}, the send gives ${got}`,
    details: [{ path: at < 0 ? 'template.components' : `template.components.${at}.parameters`, message: `expected ${expected} parameters (${component})` }],
  });
  if (shape.header !== null && shape.header !== given.header) return refuse('header', given.headerAt, shape.header, given.header);
  if (shape.body !== given.body) return refuse('body', given.bodyAt, shape.body, given.body);
  for (const [i, expected] of shape.buttons.entries()) {
    if (expected === null) continue;
    const got = buttons.get(i) ?? { count: 0, at: -1 };
    if (got.count !== expected) return refuse(`button ${i}`, got.at, expected, got.count);
  }
  return undefined;
}
