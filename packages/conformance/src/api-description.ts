import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';

/**
 * A vendor's published API description (OpenAPI 3.0 or 3.1, as JSON), pinned in an adapter's tests, against
 * which its fake checks every request the adapter sends and every answer the fake gives. Strict where the
 * vendor's document is: a path or method it does not describe, a status it does not list, a missing required
 * field, a wrong type, and a field it does not describe (objects are closed: `additionalProperties: false`, or
 * `unevaluatedProperties: false` under `allOf`/`oneOf`/`anyOf`, unless the document opens them itself).
 *
 * Problems are collected, not thrown, so the fake still answers; the adapter's tests assert that none were
 * found (`expectNoProblems`) and that a deliberately wrong field is found.
 */
export interface ApiDescription {
  /** What the document is: vendor, product and version, e.g. `Keycloak 26.4 admin REST API`. */
  readonly name: string;
  /** Every problem seen so far, oldest first: `POST /x: request body: /name must be string`. */
  readonly problems: string[];
  /** Checks a request the IdP received (path without query; body parsed, or undefined for none). */
  checkRequest(method: string, path: string, body: unknown): string[];
  /** Checks an answer the fake gave to that request (body parsed, or undefined for none). */
  checkResponse(method: string, path: string, status: number, body: unknown): string[];
  /** Throws listing every problem seen (for an `afterAll`/`afterEach`). */
  expectNoProblems(): void;
}

export interface ApiDescriptionOptions {
  name: string;
  /** The OpenAPI document (parsed JSON), or the part of it the adapter uses: `paths` and `components.schemas`. */
  document: OpenApiDocument;
  /**
   * A prefix the IdP serves the document's paths under that the document leaves out (its `servers` path),
   * e.g. `/admin/realms` or `/pf-admin-api/v1`.
   */
  basePath?: string;
}

export interface OpenApiDocument {
  openapi?: string;
  paths: Record<string, Record<string, OpenApiOperation | unknown>>;
  components?: { schemas?: Record<string, unknown> };
}

interface OpenApiOperation {
  requestBody?: { content?: Record<string, { schema?: unknown }>; required?: boolean };
  responses?: Record<string, { content?: Record<string, { schema?: unknown }> } | undefined>;
}

export function createApiDescription(options: ApiDescriptionOptions): ApiDescription {
  const { document } = options;
  const basePath = (options.basePath ?? '').replace(/\/$/, '');
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  const components = document.components?.schemas ?? {};
  ajv.addSchema({ $id: ROOT, components: { schemas: asJsonSchema(components) } });
  const templates = Object.keys(document.paths).map((template) => ({ template, pattern: templatePattern(template) }));
  const compiled = new Map<unknown, ValidateFunction>();
  const problems: string[] = [];

  const check = (schema: unknown, value: unknown, where: string): string[] => {
    let validate = compiled.get(schema);
    if (!validate) {
      validate = ajv.compile(asJsonSchema(schema) as object);
      compiled.set(schema, validate);
    }
    const errors = validate(value)
      ? []
      : (validate.errors ?? []).map((error) => `${where}: ${error.instancePath || '/'} ${error.message ?? error.keyword}`);
    return [...errors, ...unknownFields(schema, value, components).map((field) => `${where}: ${field} is not described`)];
  };

  const operationOf = (method: string, path: string): { operation?: OpenApiOperation; problem?: string } => {
    const local = basePath && path.startsWith(basePath) ? path.slice(basePath.length) || '/' : path;
    // A literal segment wins over a parameter (`/clients/search` before `/clients/{id}`).
    const match = templates
      .filter(({ pattern }) => pattern.test(local))
      .sort((a, b) => literalSegments(b.template) - literalSegments(a.template))[0];
    if (!match) return { problem: `${method} ${path}: no such path in ${options.name}` };
    const operation = document.paths[match.template]?.[method.toLowerCase()] as OpenApiOperation | undefined;
    if (!operation) return { problem: `${method} ${path}: ${options.name} describes no ${method} on ${match.template}` };
    return { operation };
  };

  const record = (found: string[]) => {
    problems.push(...found);
    return found;
  };

  return {
    name: options.name,
    problems,
    checkRequest(method, path, body) {
      const { operation, problem } = operationOf(method, path);
      if (!operation) return record([problem as string]);
      if (body === undefined || body === '')
        return record(operation.requestBody?.required ? [`${method} ${path}: request body: required, none sent`] : []);
      const schema = jsonSchemaOf(operation.requestBody?.content);
      if (schema === undefined)
        return record(operation.requestBody ? [] : [`${method} ${path}: request body: ${options.name} describes none`]);
      return record(check(schema, body, `${method} ${path}: request body`));
    },
    checkResponse(method, path, status, body) {
      const { operation, problem } = operationOf(method, path);
      if (!operation) return record([problem as string]);
      const responses = operation.responses ?? {};
      const response = responses[String(status)] ?? responses[`${String(status)[0]}XX`] ?? responses.default;
      if (!response) return record([`${method} ${path}: answer ${status}: ${options.name} lists no such status`]);
      const schema = jsonSchemaOf(response.content);
      if (schema === undefined || body === undefined || body === '') return [];
      return record(check(schema, body, `${method} ${path}: answer ${status}`));
    },
    expectNoProblems() {
      if (problems.length > 0) throw new Error(`Traffic that ${options.name} does not describe:\n- ${problems.join('\n- ')}`);
    },
  };
}

const ROOT = 'https://dcr-bridge.invalid/api-description';
const COMPONENT_REF = '#/components/schemas/';

function jsonSchemaOf(content: Record<string, { schema?: unknown }> | undefined): unknown {
  if (!content) return undefined;
  const type = Object.keys(content).find((candidate) => /json/.test(candidate)) ?? Object.keys(content)[0];
  return type === undefined ? undefined : content[type]?.schema;
}

function templatePattern(template: string): RegExp {
  const escaped = template
    .split('/')
    .map((segment) => (/^\{[^}]+\}$/.test(segment) ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${escaped}/?$`);
}

function literalSegments(template: string): number {
  return template.split('/').filter((segment) => segment !== '' && !segment.startsWith('{')).length;
}

/** OpenAPI's schema dialect as JSON Schema: `nullable` as a type that allows null, component refs to the pinned root. */
function asJsonSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(asJsonSchema);
  if (schema === null || typeof schema !== 'object') return schema;
  const source = schema as Record<string, unknown>;
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(source)) {
    if (key === '$ref' && typeof value === 'string' && value.startsWith('#/')) result.$ref = `${ROOT}${value}`;
    else if (key === 'properties' && value && typeof value === 'object')
      result[key] = Object.fromEntries(Object.entries(value).map(([name, property]) => [name, asJsonSchema(property)]));
    else if (!['nullable', 'example', 'discriminator', 'xml', 'readOnly', 'writeOnly'].includes(key)) result[key] = asJsonSchema(value);
  }
  if (source.nullable === true && typeof source.type === 'string') result.type = [source.type, 'null'];
  if (source.nullable === true && typeof source.$ref === 'string') return { anyOf: [{ $ref: result.$ref }, { type: 'null' }] };
  return result;
}

type Schema = Record<string, unknown>;

/**
 * Fields of `value` its schema does not describe, as JSON pointers. An object schema is closed unless it opens
 * itself (`additionalProperties` other than false) or describes no properties at all (a free-form object); the
 * properties of every `allOf`/`oneOf`/`anyOf` member count as described.
 */
function unknownFields(schema: unknown, value: unknown, components: Record<string, unknown>, at = '', seen = 0): string[] {
  if (seen > 32 || value === null || typeof value !== 'object') return [];
  const resolve = (candidate: unknown): Schema | undefined => {
    let current = candidate as Schema | undefined;
    for (let hops = 0; current && typeof current.$ref === 'string' && hops < 16; hops++)
      current = (current.$ref as string).startsWith(COMPONENT_REF)
        ? (components[(current.$ref as string).slice(COMPONENT_REF.length)] as Schema | undefined)
        : undefined;
    return current;
  };
  const members = (candidate: unknown): Schema[] => {
    const resolved = resolve(candidate);
    if (!resolved) return [];
    const composed = ['allOf', 'oneOf', 'anyOf'].flatMap((key) => (Array.isArray(resolved[key]) ? (resolved[key] as unknown[]) : []));
    return [resolved, ...composed.flatMap(members)];
  };
  const all = members(schema);
  if (Array.isArray(value)) {
    const items = all.map((member) => member.items).find((candidate) => candidate !== undefined);
    return items === undefined ? [] : value.flatMap((item, index) => unknownFields(items, item, components, `${at}/${index}`, seen + 1));
  }
  const open = all.some((member) => member.additionalProperties !== undefined && member.additionalProperties !== false);
  const properties = new Map<string, unknown>();
  for (const member of all)
    for (const [name, property] of Object.entries((member.properties as Record<string, unknown> | undefined) ?? {}))
      if (!properties.has(name)) properties.set(name, property);
  if (open || properties.size === 0) return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([name, field]) =>
    properties.has(name) ? unknownFields(properties.get(name), field, components, `${at}/${name}`, seen + 1) : [`${at}/${name}`],
  );
}
