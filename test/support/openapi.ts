// Mattermost's own API reference (OpenAPI 3.0 fragments in test/specs/mattermost-api-v4), loaded once
// and used to check requests the bot sends and responses the simulator answers.
//
// The fragments are concatenated in upstream's order (see the spec folder's README). Loading applies a
// short, documented list of errata (REFERENCE_ERRATA): places where the 2023 reference contradicts what
// the Mattermost server accepts and sends, each with the server source that shows it.
import { readFileSync } from "node:fs";
import AjvModule, { type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import { parse } from "yaml";

// ajv and ajv-formats are CommonJS with an `exports.default`; under NodeNext the default import is the
// module object.
const Ajv = AjvModule.default;
const addFormats = addFormatsModule.default;

/** Mattermost API reference kept in the repository (see test/specs/mattermost-api-v4/README.md for its source). */
export const SPEC_DIR = new URL("../specs/mattermost-api-v4/", import.meta.url);
const FRAGMENTS = ["introduction", "users", "teams", "channels", "posts", "commands", "actions", "bots", "definitions"];
const METHODS = ["get", "put", "post", "delete", "patch", "head", "options"] as const;

type Json = Record<string, unknown>;

export interface Parameter {
  name: string;
  in: "path" | "query" | "header" | "cookie";
  required?: boolean;
  schema?: Json;
}

export interface Operation {
  /** Upper-case HTTP method. */
  method: string;
  /** The path template as the reference has it after errata, e.g. `/api/v4/posts/{post_id}`. */
  path: string;
  operationId: string;
  parameters: Parameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: Json }> };
  responses: Record<string, Json>;
}

export interface RouteMatch {
  operation: Operation;
  /** Path parameters, URL-decoded. */
  params: Record<string, string>;
}

/** Corrections applied to the reference at load time: what, and why the server proves it. */
export const REFERENCE_ERRATA: readonly string[] = [
  "The path /teams/{team_id}/commands/autocomplete_suggestions (commands.yaml) lacks the /api/v4 prefix; it is served under /api/v4.",
  "PUT /api/v4/posts/{post_id}/patch and PUT /api/v4/posts/{post_id}: the request body's `props` is documented as a string, but the server decodes it into model.PostPatch.Props / model.Post.Props (*StringInterface, a JSON object) and its own clients send an object; treated as `type: object`.",
  "Timezone.useAutomaticTimezone is documented as a boolean, but the server keeps User.Timezone as model.StringMap and sends \"true\"/\"false\" strings (@mattermost/types: `boolean | string`); treated as a string.",
];

interface Spec {
  doc: Json;
  operations: Operation[];
  templates: { segments: string[]; byMethod: Map<string, Operation> }[];
  ajv: InstanceType<typeof Ajv>;
  validators: Map<string, ValidateFunction>;
}

let loaded: Spec | undefined;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function at(doc: Json, ...keys: string[]): Json {
  let node: unknown = doc;
  for (const key of keys) {
    if (!isObject(node) || !isObject(node[key])) throw new Error(`API reference: ${keys.join(".")} missing (errata no longer apply?)`);
    node = node[key];
  }
  return node as Json;
}

function applyErrata(doc: Json): void {
  const paths = at(doc, "paths");
  for (const key of Object.keys(paths)) {
    if (!key.startsWith("/api/v4/")) {
      paths[`/api/v4${key}`] = paths[key];
      delete paths[key];
    }
  }
  for (const [path, method] of [
    ["/api/v4/posts/{post_id}/patch", "put"],
    ["/api/v4/posts/{post_id}", "put"],
  ] as const) {
    const props = at(doc, "paths", path, method, "requestBody", "content", "application/json", "schema", "properties", "props");
    props.type = "object";
  }
  at(doc, "components", "schemas", "Timezone", "properties", "useAutomaticTimezone").type = "string";
}

/** The reference as one document (errata applied), loaded on first use. */
export function loadSpec(): Spec {
  if (loaded) return loaded;
  const text = FRAGMENTS.map((name) => readFileSync(new URL(`${name}.yaml`, SPEC_DIR), "utf8")).join("\n");
  const doc = parse(text) as Json;
  applyErrata(doc);

  const operations: Operation[] = [];
  const templates: Spec["templates"] = [];
  for (const [path, item] of Object.entries(at(doc, "paths"))) {
    if (!isObject(item)) continue;
    const shared = Array.isArray(item.parameters) ? (item.parameters as Parameter[]) : [];
    const byMethod = new Map<string, Operation>();
    for (const method of METHODS) {
      const op = item[method];
      if (!isObject(op)) continue;
      const operation: Operation = {
        method: method.toUpperCase(),
        path,
        operationId: typeof op.operationId === "string" ? op.operationId : `${method.toUpperCase()} ${path}`,
        parameters: [...shared, ...(Array.isArray(op.parameters) ? (op.parameters as Parameter[]) : [])],
        requestBody: isObject(op.requestBody) ? (op.requestBody as Operation["requestBody"]) : undefined,
        responses: isObject(op.responses) ? (op.responses as Record<string, Json>) : {},
      };
      operations.push(operation);
      byMethod.set(operation.method, operation);
    }
    templates.push({ segments: path.split("/").slice(1), byMethod });
  }

  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  const schemas: Json = {};
  for (const [name, schema] of Object.entries(at(doc, "components", "schemas"))) schemas[name] = toJsonSchema(schema);
  ajv.addSchema({ $id: SCHEMA_ID, $defs: schemas });

  loaded = { doc, operations, templates, ajv, validators: new Map() };
  return loaded;
}

const SCHEMA_ID = "mattermost-api-v4";
const SKIPPED_KEYWORDS = new Set(["example", "examples", "xml", "externalDocs", "discriminator", "nullable", "deprecated"]);

/** OpenAPI 3.0 schema object -> JSON Schema (draft 7) that ajv understands. */
function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (!isObject(node)) return node;
  if (typeof node.$ref === "string") {
    const ref = node.$ref.replace(/^#\/components\/schemas\//, `${SCHEMA_ID}#/$defs/`);
    return node.nullable === true ? { anyOf: [{ $ref: ref }, { type: "null" }] } : { $ref: ref };
  }
  const out: Json = {};
  for (const [key, value] of Object.entries(node)) {
    if (SKIPPED_KEYWORDS.has(key) || key.startsWith("x-")) continue;
    if (key === "properties" && isObject(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, schema]) => [name, toJsonSchema(schema)]));
    } else if (key === "enum" || key === "default" || key === "required") {
      out[key] = value;
    } else {
      out[key] = toJsonSchema(value);
    }
  }
  if (node.nullable === true) {
    if (typeof out.type === "string") out.type = [out.type, "null"];
    if (Array.isArray(out.enum)) out.enum = [...(out.enum as unknown[]), null];
  }
  return out;
}

/**
 * The reference's operation for this request, or undefined when the reference has no such route.
 * `path` is the URL path; a query string on it is ignored.
 * A literal segment wins over a `{param}` at the same place (`/users/ids` before `/users/{user_id}`).
 */
export function matchRoute(method: string, path: string): RouteMatch | undefined {
  const spec = loadSpec();
  const segments = path.replace(/[?#].*$/, "").split("/").slice(1);
  let best: { operation: Operation; params: Record<string, string>; score: string } | undefined;
  for (const template of spec.templates) {
    if (template.segments.length !== segments.length) continue;
    const operation = template.byMethod.get(method.toUpperCase());
    if (!operation) continue;
    const params: Record<string, string> = {};
    let score = "";
    let ok = true;
    for (let i = 0; i < segments.length && ok; i++) {
      const want = template.segments[i] ?? "";
      const got = segments[i] ?? "";
      const param = /^\{(.+)\}$/.exec(want);
      if (param?.[1]) {
        if (got === "") ok = false;
        else {
          try {
            params[param[1]] = decodeURIComponent(got);
          } catch {
            ok = false;
          }
        }
        score += "0";
      } else {
        ok = want === got;
        score += "1";
      }
    }
    if (ok && (!best || score > best.score)) best = { operation, params, score };
  }
  return best && { operation: best.operation, params: best.params };
}

/** The methods the reference documents for a path (empty when the path is unknown). */
export function methodsForPath(path: string): string[] {
  return METHODS.filter((method) => matchRoute(method, path)).map((method) => method.toUpperCase());
}

function validator(key: string, schema: unknown): ValidateFunction {
  const spec = loadSpec();
  let validate = spec.validators.get(key);
  if (!validate) {
    validate = spec.ajv.compile(toJsonSchema(schema) as Json);
    spec.validators.set(key, validate);
  }
  return validate;
}

function describe(errors: ErrorObject[] | null | undefined, where: string): string[] {
  return (errors ?? []).map((e) => {
    const field = e.instancePath ? `${where}${e.instancePath}` : where;
    const extra = e.keyword === "enum" ? ` (${JSON.stringify(e.params.allowedValues)})` : "";
    return `${field} ${e.message ?? "is invalid"}${extra}`;
  });
}

const GO_BOOLEANS = new Set(["1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False"]);

function checkScalar(value: string, schema: Json | undefined): string | undefined {
  const type = schema?.type;
  if (type === "integer" && !/^-?\d+$/.test(value)) return "must be an integer";
  if (type === "number" && (value.trim() === "" || !Number.isFinite(Number(value)))) return "must be a number";
  if (type === "boolean" && !GO_BOOLEANS.has(value)) return "must be a boolean";
  if (Array.isArray(schema?.enum) && !schema.enum.includes(type === "integer" || type === "number" ? Number(value) : value)) {
    return `must be one of ${JSON.stringify(schema.enum)}`;
  }
  return undefined;
}

export interface RequestCheck {
  /** One line per way the request breaks the reference (empty when it conforms). */
  problems: string[];
  /** The parsed JSON body (undefined when there was none or it was not JSON). */
  body: unknown;
}

/** Checks path parameters, query parameters and the JSON body against the operation. */
export function validateRequest(match: RouteMatch, query: URLSearchParams, rawBody: string): RequestCheck {
  const { operation } = match;
  const problems: string[] = [];
  for (const parameter of operation.parameters) {
    if (parameter.in === "path") {
      const value = match.params[parameter.name];
      if (value === undefined) continue;
      const problem = checkScalar(value, parameter.schema);
      if (problem) problems.push(`path parameter ${parameter.name}=${JSON.stringify(value)} ${problem}`);
    } else if (parameter.in === "query") {
      const values = query.getAll(parameter.name);
      if (values.length === 0) {
        if (parameter.required) problems.push(`query parameter ${parameter.name} is required`);
        continue;
      }
      const items = parameter.schema?.type === "array" ? values.flatMap((v) => v.split(",")) : values;
      const schema = parameter.schema?.type === "array" && isObject(parameter.schema.items) ? parameter.schema.items : parameter.schema;
      for (const value of items) {
        const problem = checkScalar(value, schema);
        if (problem) problems.push(`query parameter ${parameter.name}=${JSON.stringify(value)} ${problem}`);
      }
    }
  }

  let body: unknown;
  const hasBody = rawBody.trim() !== "";
  if (hasBody) {
    try {
      body = JSON.parse(rawBody);
    } catch {
      body = undefined;
    }
  }
  const requestBody = operation.requestBody;
  const schema = requestBody?.content?.["application/json"]?.schema;
  if (requestBody && schema) {
    if (!hasBody) {
      if (requestBody.required) problems.push("request body is required");
    } else if (body === undefined) {
      problems.push("request body is not valid JSON");
    } else {
      const validate = validator(`request ${operation.method} ${operation.path}`, schema);
      if (!validate(body)) problems.push(...describe(validate.errors, "request body"));
    }
  }
  return { problems, body };
}

function resolveResponse(response: Json | undefined): Json | undefined {
  if (response && typeof response.$ref === "string") {
    const name = /^#\/components\/responses\/(.+)$/.exec(response.$ref)?.[1];
    const responses = at(loadSpec().doc, "components", "responses");
    const target = name ? responses[name] : undefined;
    return isObject(target) ? target : undefined;
  }
  return response;
}

/**
 * Checks a response body against what the reference documents for that operation and status.
 * Returns one line per problem (empty when it conforms).
 */
export function validateResponse(method: string, path: string, status: number, body: unknown): string[] {
  const match = matchRoute(method, path);
  if (!match) return [`${method.toUpperCase()} ${path} is not in the API reference`];
  const { responses } = match.operation;
  const declared = responses[String(status)] ?? responses[`${String(status)[0]}XX`] ?? responses.default;
  const response = resolveResponse(declared);
  if (!response) return [`${match.operation.operationId}: status ${status} is not documented`];
  const content = isObject(response.content) ? response.content : undefined;
  const json = content && isObject(content["application/json"]) ? content["application/json"] : undefined;
  if (!json || !isObject(json.schema)) return [];
  const validate = validator(`response ${match.operation.method} ${match.operation.path} ${status}`, json.schema);
  return validate(body) ? [] : describe(validate.errors, `${match.operation.operationId} ${status} response`);
}
