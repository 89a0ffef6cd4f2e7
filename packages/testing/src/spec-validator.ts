import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

type Json = Record<string, unknown>;
const SPEC_ID = 'urn:cbot-relay:openapi';
// ajv-formats is CommonJS: its default export arrives as the module object under NodeNext.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

/**
 * Validates JSON values against the schemas of an OpenAPI 3.1 document with ajv (draft 2020-12, the
 * dialect OpenAPI 3.1 uses): a component by name, or the body a path/method/status is described with.
 */
export class SpecValidator {
  readonly #ajv: Ajv2020;
  readonly #doc: Json;
  readonly #cache = new Map<string, ValidateFunction>();

  constructor(doc: Json) {
    this.#doc = doc;
    // strict off: the wrapper object is not a JSON Schema keyword set (`components`), and OpenAPI allows `example`.
    this.#ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(this.#ajv);
    this.#ajv.addSchema({ $id: SPEC_ID, components: (doc.components as Json | undefined) ?? {} });
  }

  /** Errors of `value` against `#/components/schemas/<name>`; empty when valid. */
  component(name: string, value: unknown): ErrorObject[] {
    return this.#run(`${SPEC_ID}#/components/schemas/${name}`, value);
  }

  /** Errors of a response body against what the document says `method path` answers with `status`. */
  response(path: string, method: string, status: number, value: unknown): ErrorObject[] {
    const op = ((this.#doc.paths as Json)[path] as Json | undefined)?.[method.toLowerCase()] as Json | undefined;
    const res = (op?.responses as Json | undefined)?.[String(status)] as Json | undefined;
    const schema = ((res?.content as Json | undefined)?.['application/json'] as Json | undefined)?.schema as Json | undefined;
    if (!schema) throw new Error(`the document describes no JSON ${status} for ${method} ${path}`);
    const target = schema.$ref as string;
    return this.#run(`${SPEC_ID}${target}`, value);
  }

  #run(ref: string, value: unknown): ErrorObject[] {
    let validate = this.#cache.get(ref);
    if (!validate) {
      validate = this.#ajv.compile({ $ref: ref });
      this.#cache.set(ref, validate);
    }
    return validate(value) ? [] : [...(validate.errors ?? [])];
  }
}
