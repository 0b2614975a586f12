// Prisma's schema engine, compiled to WebAssembly (@prisma/schema-engine-wasm),
// driven through a driver adapter: the part of Prisma Migrate that computes
// migrations, without the native engine that the Prisma CLI downloads (and
// cannot download here). A development tool: nothing at run time imports it.
//
// What it takes to make it work (Prisma 7.10, engine 7.10.0-4.0edf323):
// - `SchemaEngine.new(options, log, adapterFactory)` with a *migration-aware*
//   factory (connect + connectToShadowDb), bound by
//   bindMigrationAwareSqlAdapterFactory. connect() is called at once;
//   connectToShadowDb() for every diff that replays migrations.
// - `createMigration` does not work on PostgreSQL in the Wasm build ("shadow
//   DB must be provided through an external factory"); `diff` from
//   `migrations` to `schemaDatamodel` does, and gives the same script.
//   `diff` with `url` targets is refused ("no longer supported");
//   `schemaDatasource` describes the database behind connect().
// - The schema describer reads pg_catalog columns of type "char" (OID 18),
//   which @prisma/adapter-pg 7.10.1 rejects ("Column type 'char' could not be
//   deserialized"): see `charColumns` below.
// - @prisma/adapter-pg's executeScript splits scripts at every ";", even in
//   comments, strings and $$-quoted bodies, so replaying a migration with
//   such a ";" fails: the adapter below sends the script whole (the simple
//   query protocol runs several statements), as `migrate()` does.
// - A Rust panic reports through globalThis.PRISMA_WASM_PANIC_REGISTRY, which
//   must exist (the Prisma CLI defines it).
import { PrismaPg } from "@prisma/adapter-pg";
import {
  bindMigrationAwareSqlAdapterFactory,
  ColumnTypeEnum,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
  type SqlQuery,
  type SqlResultSet,
  type Transaction,
} from "@prisma/driver-adapter-utils";
import pg from "pg";
import { LOCKFILE_CONTENT, LOCKFILE_NAME, type MigrationFile } from "../migrations/files.ts";
import { type EmbeddedPostgres, startThrowawayPostgres } from "../pglite.ts";

type Wasm = typeof import("@prisma/schema-engine-wasm");
type Engine = Awaited<ReturnType<Wasm["SchemaEngine"]["new"]>>;

const panicRegistry = {
  message: "",
  get(): string {
    return this.message;
  },
  set_message(message: string): void {
    this.message = `RuntimeError: ${message}`;
  },
};

/** The message of the last panic of the Wasm engine ("" if none). */
export function lastEnginePanic(): string {
  return panicRegistry.message;
}

let wasmModule: Promise<Wasm> | undefined;
function loadWasm(): Promise<Wasm> {
  const global = globalThis as { PRISMA_WASM_PANIC_REGISTRY?: unknown };
  global.PRISMA_WASM_PANIC_REGISTRY ??= panicRegistry;
  wasmModule ??= import("@prisma/schema-engine-wasm");
  return wasmModule;
}

// --- "char" columns ----------------------------------------------------------
// pg reports the column's type OID; @prisma/adapter-pg maps OIDs to Prisma
// column types and throws on OID 18 ("char", e.g. pg_constraint.contype). The
// client below relabels such columns as text before the adapter sees them and
// remembers their positions, keyed by the rows array (which the adapter passes
// through unchanged), so that the adapter wrapper can report them as
// Character, the type that the describer reads them as.
const CHAR_OID = 18;
const TEXT_OID = 25;
const charColumns = new WeakMap<object, number[]>();

interface FieldLike {
  dataTypeID: number;
}
function relabelCharColumns<T>(result: T): T {
  const r = result as { fields?: FieldLike[]; rows?: object } | undefined;
  if (r?.fields && r.rows) {
    const positions: number[] = [];
    r.fields.forEach((field, index) => {
      if (field.dataTypeID === CHAR_OID) {
        field.dataTypeID = TEXT_OID;
        positions.push(index);
      }
    });
    if (positions.length > 0) {
      charColumns.set(r.rows, positions);
    }
  }
  return result;
}

class CharColumnsClient extends pg.Client {
  // pg.Client#query has many overloads; this forwards all of them.
  // biome-ignore lint/suspicious/noExplicitAny: forwarding pg's overloads
  override query(...args: any[]): any {
    const last = args.at(-1);
    if (typeof last === "function") {
      args[args.length - 1] = (error: unknown, result: unknown) =>
        last(error, relabelCharColumns(result));
      // biome-ignore lint/suspicious/noExplicitAny: forwarding pg's overloads
      return (super.query as any)(...args);
    }
    // biome-ignore lint/suspicious/noExplicitAny: forwarding pg's overloads
    const returned = (super.query as any)(...args);
    return returned instanceof Promise ? returned.then(relabelCharColumns) : returned;
  }
}

function withCharColumns<T extends SqlDriverAdapter | Transaction>(queryable: T): T {
  const queryRaw = queryable.queryRaw.bind(queryable);
  queryable.queryRaw = async (query: SqlQuery): Promise<SqlResultSet> => {
    const result = await queryRaw(query);
    for (const index of charColumns.get(result.rows) ?? []) {
      result.columnTypes[index] = ColumnTypeEnum.Character;
    }
    return result;
  };
  if ("startTransaction" in queryable) {
    const startTransaction = queryable.startTransaction.bind(queryable);
    queryable.startTransaction = async (...args) =>
      withCharColumns(await startTransaction(...args));
  }
  return queryable;
}

async function connectAdapter(url: string): Promise<SqlDriverAdapter> {
  const factory = new PrismaPg({
    connectionString: url,
    max: 1,
    Client: CharColumnsClient,
    application_name: "ferry-schema-engine",
  });
  const adapter = await factory.connect();
  adapter.executeScript = async (script: string) => {
    try {
      await adapter.underlyingDriver().query(script);
    } catch (error) {
      // PrismaPgAdapter#onError (protected) turns a pg error into the
      // DriverAdapterError that the engine reports.
      (adapter as unknown as { onError(error: unknown): never }).onError(error);
    }
  };
  return withCharColumns(adapter);
}

// --- the engine ---------------------------------------------------------------

export interface SchemaEngineOptions {
  /** schema.prisma's content, and its path (for messages). */
  readonly schema: { readonly path: string; readonly content: string };
  /**
   * The database that `diffDatabaseToSchema` describes. Default: a throwaway
   * in-memory PGlite.
   */
  readonly databaseUrl?: string;
  /**
   * Where migrations are replayed ("shadow database"; the engine empties it
   * before and after). Default: a throwaway in-memory PGlite, the same as the
   * default database.
   */
  readonly shadowDatabaseUrl?: string;
}

export interface SchemaEngine {
  /** Engine version (its git commit). */
  readonly version: string;
  /** The SQL that takes a database at `migrations` to the schema; null when there is none. */
  diffMigrationsToSchema(migrations: readonly MigrationFile[]): Promise<string | null>;
  /** The SQL that takes the database (databaseUrl) to the schema; null when it matches. */
  diffDatabaseToSchema(): Promise<string | null>;
  close(): Promise<void>;
}

const NO_FILTER = { externalTables: [], externalEnums: [] };

export async function openSchemaEngine(options: SchemaEngineOptions): Promise<SchemaEngine> {
  const wasm = await loadWasm();
  let throwaway: Promise<EmbeddedPostgres> | undefined;
  const throwawayUrl = async () => {
    throwaway ??= startThrowawayPostgres();
    return (await throwaway).url;
  };
  // The engine disposes what it connects, but not always before free():
  // close() disposes whatever is left, before stopping the throwaway PGlite.
  const adapters = new Set<SqlDriverAdapter>();
  const track = async (url: string) => {
    const adapter = await connectAdapter(url);
    const dispose = adapter.dispose.bind(adapter);
    adapter.dispose = async () => {
      if (adapters.delete(adapter)) {
        await dispose();
      }
    };
    adapters.add(adapter);
    return adapter;
  };
  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: "postgres",
    adapterName: "@ferry/db (adapter-pg)",
    connect: async () => track(options.databaseUrl ?? (await throwawayUrl())),
    connectToShadowDb: async () => track(options.shadowDatabaseUrl ?? (await throwawayUrl())),
  };
  const schemaFiles = [{ path: options.schema.path, content: options.schema.content }];
  let engine: Engine;
  try {
    engine = await wasm.SchemaEngine.new(
      { datamodels: [[options.schema.path, options.schema.content]] },
      (line: string) => {
        // The engine's tracing, one JSON object per line.
        if (process.env.FERRY_SCHEMA_ENGINE_DEBUG) {
          process.stderr.write(`${line}\n`);
        }
      },
      bindMigrationAwareSqlAdapterFactory(factory),
    );
  } catch (error) {
    await Promise.allSettled([...adapters].map((adapter) => adapter.dispose()));
    await (await throwaway)?.stop();
    throw error;
  }

  const diff = async (from: Parameters<Engine["diff"]>[0]["from"]): Promise<string | null> => {
    const result = await engine.diff({
      from,
      to: { tag: "schemaDatamodel", files: schemaFiles },
      script: true,
      exitCode: true,
      filters: NO_FILTER,
    });
    // exitCode 2: the diff is not empty.
    return result.exitCode === 2 ? (result.stdout ?? "") : null;
  };

  return {
    version: wasm.version(),
    diffMigrationsToSchema: (migrations) =>
      diff({
        tag: "migrations",
        baseDir: "prisma/migrations",
        lockfile: { path: LOCKFILE_NAME, content: LOCKFILE_CONTENT },
        shadowDbInitScript: "",
        migrationDirectories: migrations.map((migration) => ({
          path: migration.name,
          migrationFile: {
            path: "migration.sql",
            content: { tag: "ok", value: migration.script },
          },
        })),
      }),
    diffDatabaseToSchema: () =>
      diff({ tag: "schemaDatasource", files: schemaFiles, configDir: "." }),
    async close() {
      engine.free();
      await Promise.allSettled([...adapters].map((adapter) => adapter.dispose()));
      await (await throwaway)?.stop();
    },
  };
}
