// The queries the bot runs for every event, built and compiled by Kysely once per database and then run
// with new values: building and compiling the same query again cost nearly as much CPU as SQLite spends
// running it. Kysely runs a CompiledQuery as it is (`db.executeQuery`), so only its parameters change;
// on SQLite, when the connection is free, the statement runs at once without Kysely's connection handling.
import type { Compilable, CompiledQuery, QueryResult } from "kysely";
import { runOnIdleSqlite, type Db } from "./db.js";

type Value = string | number | null;
type Parameters = Record<string, Value | readonly Value[]>;

/** Longest list (an `in (...)` of values) compiled once per length; longer ones are built each time. */
export const MAX_COMPILED_LIST_LENGTH = 32;

/**
 * What the builder is given instead of a value while the query is compiled. The compiled query then
 * says, parameter by parameter, which value goes where: the order comes from Kysely, never assumed.
 * Placeholders are only ever compiled, never sent to the database, so no real value can be taken for one.
 */
const PLACEHOLDER = "\u0000compiled-query-parameter:";

/** Where one parameter of the compiled query takes its value from. */
type Slot = { name: string; index?: number } | { constant: unknown };

interface Template<O> {
  compiled: CompiledQuery<O>;
  slots: Slot[];
}

export interface ReusedQuery<P extends Parameters, O> {
  /**
   * Runs the query with these values. The compiled form belongs to `db` (SQLite and PostgreSQL compile
   * differently); `connection`, a transaction or connection of that same database, runs it when given.
   */
  run(db: Db, params: P, connection?: Db): Promise<QueryResult<O>>;
  first(db: Db, params: P, connection?: Db): Promise<O | undefined>;
  /** Rows an insert, update or delete wrote. */
  affected(db: Db, params: P, connection?: Db): Promise<number>;
}

/**
 * A query whose shape never changes, only its values: `build` takes them by name (`p.jobId`) and must
 * use each as a value only (no SQL text, no transforming it: work values out before the call). A value
 * that is a list compiles once per length, up to MAX_COMPILED_LIST_LENGTH. A builder that breaks these
 * rules throws on its first run, on every database.
 */
export function reusedQuery<P extends Parameters, O>(build: (db: Db, p: P) => Compilable<O>): ReusedQuery<P, O> {
  const templates = new WeakMap<Db, Map<string, Template<O>>>();

  function compiledFor(db: Db, params: P): CompiledQuery<O> {
    const shape = shapeOf(params);
    if (shape === undefined) return build(db, params).compile();
    let byShape = templates.get(db);
    if (!byShape) {
      byShape = new Map();
      templates.set(db, byShape);
    }
    let template = byShape.get(shape);
    if (!template) {
      template = compileTemplate(build, db, params);
      byShape.set(shape, template);
    }
    return { ...template.compiled, parameters: template.slots.map((slot) => valueFor(slot, params)) };
  }

  const run = async (db: Db, params: P, connection: Db = db) => {
    const query = compiledFor(db, params);
    return (connection === db && runOnIdleSqlite(db, query)) || connection.executeQuery(query);
  };
  return {
    run,
    first: async (db, params, connection) => (await run(db, params, connection)).rows[0],
    affected: async (db, params, connection) => Number((await run(db, params, connection)).numAffectedRows ?? 0),
  };
}

/** The lengths of the list values, which decide the SQL text; undefined when a list is too long to keep. */
function shapeOf(params: Parameters): string | undefined {
  let shape = "";
  for (const name in params) {
    const value = params[name];
    if (!Array.isArray(value)) continue;
    if (value.length > MAX_COMPILED_LIST_LENGTH) return undefined;
    shape += `${name}:${value.length};`;
  }
  return shape;
}

function compileTemplate<P extends Parameters, O>(build: (db: Db, p: P) => Compilable<O>, db: Db, params: P): Template<O> {
  const placeholders: Record<string, string | string[]> = {};
  const unused = new Map<string, Slot>();
  for (const name in params) {
    const value = params[name];
    if (Array.isArray(value)) {
      const list = value.map((_, index) => `${PLACEHOLDER}${name}[${index}]`);
      list.forEach((placeholder, index) => unused.set(placeholder, { name, index }));
      placeholders[name] = list;
    } else {
      const placeholder = `${PLACEHOLDER}${name}`;
      unused.set(placeholder, { name });
      placeholders[name] = placeholder;
    }
  }
  const compiled = build(db, placeholders as unknown as P).compile();
  if (compiled.sql.includes(PLACEHOLDER)) throw new Error(`a reused query puts a value into its SQL text: ${compiled.sql}`);
  const used = new Map<string, Slot>();
  const slots = compiled.parameters.map((parameter): Slot => {
    if (typeof parameter !== "string" || !parameter.includes(PLACEHOLDER)) return { constant: parameter };
    const slot = unused.get(parameter) ?? used.get(parameter);
    if (!slot) throw new Error(`a reused query changed a value before using it: ${compiled.sql}`);
    unused.delete(parameter);
    used.set(parameter, slot);
    return slot;
  });
  if (unused.size > 0) {
    const names = [...unused.keys()].map((p) => p.slice(PLACEHOLDER.length)).join(", ");
    throw new Error(`a reused query does not use ${names}: ${compiled.sql}`);
  }
  return { compiled, slots };
}

function valueFor(slot: Slot, params: Parameters): unknown {
  if ("constant" in slot) return slot.constant;
  const value = params[slot.name];
  return slot.index === undefined ? value : (value as readonly Value[])[slot.index];
}
