// Conformance to the published specifications: requests and responses are validated with Ajv against the
// schemas of the specs' own OpenAPI documents (docs/specs/), loaded unchanged. Ajv reads OpenAPI 3.0's
// `nullable`; `example`, `x-examples` and the OpenAPI-only formats are ignored or accepted as OpenAPI means them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import YAML from 'yaml';
import { SPECS } from './data.js';


// ajv-formats is CommonJS: its plugin is the default export's default under NodeNext.
type AddFormats = (ajv: Ajv) => Ajv;
const addFormats: AddFormats = (addFormatsModule as unknown as { default?: AddFormats }).default ?? (addFormatsModule as unknown as AddFormats);

interface Operation { requestBody?: { content?: Record<string, { schema?: unknown }> }; responses?: Record<string, { content?: Record<string, { schema?: unknown }> }> }
interface OpenApi { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown> } }

export class SpecValidator {
  readonly doc: OpenApi;
  readonly #ajv: Ajv;
  readonly #id: string;
  readonly #compiled = new Map<string, ValidateFunction>();

  constructor(doc: OpenApi, id: string) {
    this.doc = doc;
    this.#id = id;
    // strict: false, because the documents carry OpenAPI annotations (example, x-examples) that are not JSON Schema.
    this.#ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(this.#ajv);
    this.#ajv.addFormat('float', { type: 'number', validate: (x: number) => Number.isFinite(x) });
    this.#ajv.addFormat('int32', { type: 'number', validate: (x: number) => Number.isInteger(x) && x >= -(2 ** 31) && x < 2 ** 31 });
    this.#ajv.addSchema(doc, id);
  }

  static tei(): SpecValidator {
    return new SpecValidator(JSON.parse(readFileSync(join(SPECS, 'text-embeddings-inference', 'openapi.json'), 'utf8')) as OpenApi, 'tei');
  }

  static v2(): SpecValidator {
    return new SpecValidator(YAML.parse(readFileSync(join(SPECS, 'open-inference-protocol', 'open_inference_rest.yaml'), 'utf8')) as OpenApi, 'v2');
  }

  /** Errors of `value` against components.schemas[name] (empty when valid). */
  component(name: string, value: unknown): string[] {
    if (!(name in this.doc.components.schemas)) throw new Error(`no schema ${name} in ${this.#id}`);
    return this.#check(`${this.#id}#/components/schemas/${name}`, value);
  }

  /** Errors of a request body against the operation's requestBody schema. */
  request(method: string, path: string, body: unknown): string[] {
    const operation = this.#operation(method, path);
    const content = operation.requestBody?.content?.['application/json'];
    if (!content?.schema) throw new Error(`${method} ${path} has no JSON request body in ${this.#id}`);
    return this.#check(`${this.#id}#/paths/${pointer(path)}/${method.toLowerCase()}/requestBody/content/application~1json/schema`, body);
  }

  /**
   * Errors of a response against the operation's response for that status; a status the document does not
   * list (401, 404, 503 ...) is checked against `errorSchema`, the document's error object. A documented
   * status without content (health) takes any body.
   */
  response(method: string, path: string, status: number, body: unknown, errorSchema: string): string[] {
    const operation = this.#operation(method, path);
    const response = operation.responses?.[String(status)];
    if (response === undefined) {
      if (status < 400) return [`status ${status} is not listed for ${method} ${path}`];
      return this.component(errorSchema, body);
    }
    if (!response.content?.['application/json']?.schema) return [];
    return this.#check(`${this.#id}#/paths/${pointer(path)}/${method.toLowerCase()}/responses/${status}/content/application~1json/schema`, body);
  }

  #operation(method: string, path: string): Operation {
    const operation = this.doc.paths[path]?.[method.toLowerCase()];
    if (!operation) throw new Error(`${method} ${path} is not in ${this.#id}`);
    return operation;
  }

  #check(ref: string, value: unknown): string[] {
    let validate = this.#compiled.get(ref);
    if (!validate) {
      validate = this.#ajv.getSchema(ref);
      if (!validate) throw new Error(`cannot resolve ${ref}`);
      this.#compiled.set(ref, validate);
    }
    return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
  }
}

/** A path as one JSON-pointer token (`/` → `~1`, `~` → `~0`). */
function pointer(path: string): string {
  return path.replace(/~/g, '~0').replace(/\//g, '~1');
}
