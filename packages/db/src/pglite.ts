// The embedded database: PGlite (PostgreSQL compiled to WebAssembly, running
// in this process) served on a loopback TCP port by pglite-socket, so that
// `pg`, `@prisma/adapter-pg` and the migration runner talk to it exactly as
// they talk to a PostgreSQL server.
//
// Facts about @electric-sql/pglite-socket 0.2.17 that shape this module
// (read from its source and checked by test/pglite.test.ts):
// - PGlite is ONE PostgreSQL backend, ONE session. The socket server accepts
//   up to `maxConnections` clients (default 1; more are cut off with a raw
//   "Too many connections" and a closed socket) and runs their protocol
//   messages one at a time through a global queue.
// - While a connection is inside a transaction, the queue only serves that
//   connection: the others wait until it commits or rolls back (so
//   transactions are isolated, by serialization).
// - Every connection shares the session: session state (SET, temp tables,
//   advisory locks!) is common to all of them. pg_advisory_lock taken by one
//   connection does not block another. Anything that needs mutual exclusion
//   across connections must therefore be done in this process (see
//   `pgliteMutex`).
// - The queue takes one protocol MESSAGE at a time, as each is read from its
//   socket. An extended-protocol batch (Parse, Bind, Describe, Execute … Sync)
//   whose bytes arrive in several reads could interleave with another
//   connection's batch on the one session (a Bind meeting someone else's
//   unnamed statement: 08P01, or a wrong row). `batchExclusive` closes that:
//   the server sees a connection as "in a transaction" from its first
//   extended-protocol message until its Sync, so the queue serves only it.
// So a pg pool of 1 connection is the right client configuration: more
// connections add no parallelism and only interleave on one session.
import { randomBytes } from "node:crypto";
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { installNotificationHub, type NotificationHub } from "./notifications/embedded-hub.ts";

/**
 * Connections the socket server accepts. Each process's pool uses 1, and so does each LISTEN
 * connection (ctrl's route feed and event feed); hydra's pool, migrations, the admin command and
 * reconnects need the rest. Connections share one session, so more cost nothing but a socket.
 */
export const PGLITE_SOCKET_MAX_CONNECTIONS = 16;

export interface EmbeddedPostgres {
  readonly pglite: PGlite;
  /** A `postgresql://` URL of the socket server (127.0.0.1, OS-chosen port). */
  readonly url: string;
  /** `"memory"` or the absolute data directory. */
  readonly dataDir: string;
  /** Serializes work that needs exclusive use of this database (see the notes above). */
  readonly mutex: Mutex;
  /** Every NOTIFY of the shared session, whichever connection committed it. */
  readonly notifications: NotificationHub;
  /** Stops the socket server, closes PGlite (flushing it to disk) and releases the data directory. */
  stop(): Promise<void>;
}

export interface StartEmbeddedPostgresOptions {
  /** A data directory to open (created if missing), or "memory". */
  readonly dataDir: string | "memory";
  /** Start from this data directory archive (`PGlite.dumpDataDir()`), in memory only. */
  readonly loadDataDir?: Blob;
}

export async function startEmbeddedPostgres(
  options: StartEmbeddedPostgresOptions,
): Promise<EmbeddedPostgres> {
  const inMemory = options.dataDir === "memory";
  const dataDir = inMemory ? "memory" : path.resolve(options.dataDir);
  if (!inMemory && options.loadDataDir) {
    throw new Error("loadDataDir is only supported for in-memory PGlite");
  }
  const releaseLock = inMemory ? () => {} : lockDataDir(dataDir);
  let pglite: PGlite | undefined;
  let server: PGLiteSocketServer | undefined;
  let notifications: NotificationHub | undefined;
  try {
    if (!inMemory) {
      mkdirSync(path.dirname(dataDir), { recursive: true });
    }
    pglite = await PGlite.create({
      ...(inMemory ? {} : { dataDir }),
      ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
    });
    notifications = installNotificationHub(pglite);
    server = new PGLiteSocketServer({
      db: batchExclusive(pglite),
      host: "127.0.0.1",
      port: 0,
      maxConnections: PGLITE_SOCKET_MAX_CONNECTIONS,
    });
    await server.start();
  } catch (error) {
    await pglite?.close().catch(() => {});
    releaseLock();
    throw error;
  }
  const startedPglite = pglite;
  const startedServer = server;
  const startedNotifications = notifications;
  // getServerConn() is "127.0.0.1:<port>" once listening.
  const url = `postgresql://postgres@${startedServer.getServerConn()}/postgres`;
  let stopped: Promise<void> | undefined;
  return {
    pglite: startedPglite,
    url,
    dataDir,
    mutex: new Mutex(),
    notifications: startedNotifications,
    stop() {
      stopped ??= (async () => {
        try {
          await startedServer.stop();
          // The server detaches its connections without waiting for them
          // (a detach may roll back an open transaction): let that finish.
          await new Promise((resolve) => setTimeout(resolve, 10));
          await startedPglite.close();
        } finally {
          releaseLock();
        }
      })();
      return stopped;
    },
  };
}

/** Frontend messages that open (or continue) an extended-protocol batch, ended by Sync ('S'). */
const EXTENDED_PROTOCOL = new Set(["P", "B", "D", "E", "C", "H"].map((c) => c.charCodeAt(0)));
const SYNC = "S".charCodeAt(0);
const SIMPLE_QUERY = "Q".charCodeAt(0);

/**
 * The PGlite the socket server drives, with one change: `isInTransaction()` is also true while
 * the last connection served is inside an extended-protocol batch. The server's queue then
 * serves only that connection (as it does inside BEGIN … COMMIT) until its Sync, so batches
 * never interleave. A connection that dies mid-batch is handled like one dying mid-transaction:
 * the server runs ROLLBACK through `exec` and forgets it, and so does this.
 */
const batchExclusive = (pglite: PGlite): PGlite => {
  let inBatch = false;
  return new Proxy(pglite, {
    get(target, property) {
      if (property === "isInTransaction") return () => inBatch || target.isInTransaction();
      if (property === "execProtocolRawStream")
        return ((message, options) => {
          const type = message[0];
          if (type !== undefined && EXTENDED_PROTOCOL.has(type)) inBatch = true;
          else if (type === SYNC || type === SIMPLE_QUERY) inBatch = false;
          return target.execProtocolRawStream(message, options);
        }) satisfies PGlite["execProtocolRawStream"];
      if (property === "exec")
        return ((query, options) => {
          inBatch = false;
          return target.exec(query, options);
        }) satisfies PGlite["exec"];
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
};

// --- snapshots (for tests and tools) --------------------------------------------
// Creating a PGlite database runs initdb in WebAssembly: about 3 s in memory
// (9 s in a data directory) on this project's machines. Loading a data
// directory archive takes about 1.5 s. Throwaway databases (tests, the schema
// engine's shadow database) therefore start from snapshots: built once per
// process, or found in node_modules/.cache/ferry-db, keyed by PGlite's version
// and the caller's key.

const SNAPSHOT_DIR = fileURLToPath(
  new URL("../../../node_modules/.cache/ferry-db/", import.meta.url),
);
const snapshots = new Map<string, Promise<Blob>>();

/**
 * An archive of a PGlite database prepared by `prepare` (on a fresh in-memory
 * PGlite), cached under `key` (which must change whenever `prepare`'s result
 * would). Start databases from it with `startEmbeddedPostgres({ dataDir:
 * "memory", loadDataDir })`.
 */
export function pgliteSnapshot(
  key: string,
  prepare: (embedded: EmbeddedPostgres) => Promise<void>,
): Promise<Blob> {
  const fullKey = `${pgliteVersion()}-${key}`;
  let snapshot = snapshots.get(fullKey);
  if (!snapshot) {
    snapshot = loadOrBuildSnapshot(fullKey, prepare);
    snapshots.set(fullKey, snapshot);
    snapshot.catch(() => snapshots.delete(fullKey));
  }
  return snapshot;
}

/** A throwaway in-memory PGlite with an empty database. */
export async function startThrowawayPostgres(): Promise<EmbeddedPostgres> {
  const loadDataDir = await pgliteSnapshot("empty", async () => {});
  return await startEmbeddedPostgres({ dataDir: "memory", loadDataDir });
}

function pgliteVersion(): string {
  const require = createRequire(import.meta.url);
  const packageJson = path.join(
    path.dirname(require.resolve("@electric-sql/pglite")),
    "..",
    "package.json",
  );
  return (JSON.parse(readFileSync(packageJson, "utf8")) as { version: string }).version;
}

async function loadOrBuildSnapshot(
  key: string,
  prepare: (embedded: EmbeddedPostgres) => Promise<void>,
): Promise<Blob> {
  const file = path.join(SNAPSHOT_DIR, `pglite-${key}.tar`);
  try {
    return new Blob([readFileSync(file)]);
  } catch {
    // Not cached yet.
  }
  const embedded = await startEmbeddedPostgres({ dataDir: "memory" });
  let archive: Blob;
  try {
    await prepare(embedded);
    archive = await embedded.pglite.dumpDataDir("none");
  } finally {
    await embedded.stop();
  }
  try {
    mkdirSync(SNAPSHOT_DIR, { recursive: true });
    // Write and rename: parallel processes may build the same snapshot.
    const temporary = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    writeFileSync(temporary, new Uint8Array(await archive.arrayBuffer()));
    renameSync(temporary, file);
  } catch {
    // A cache is only a cache.
  }
  return archive;
}

/**
 * PGlite has no protection against two processes (or two instances in one
 * process) opening the same data directory, which corrupts it. A lock file
 * next to the directory holds the owner's pid; a stale one (dead pid) is
 * taken over.
 */
function lockDataDir(dataDir: string): () => void {
  const lockPath = `${dataDir}.lock`;
  mkdirSync(path.dirname(lockPath), { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(lockPath, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      return () => {
        if (!released) {
          released = true;
          rmSync(lockPath, { force: true });
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
        throw error;
      }
      const owner = Number.parseInt(readFileSync(lockPath, "utf8").trim(), 10);
      if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) {
        throw new Error(
          `The PGlite data directory ${dataDir} is in use by ${owner === process.pid ? "this process" : `process ${owner}`} ` +
            `(lock file ${lockPath}). PGlite allows one user at a time: stop the other one first.`,
        );
      }
      rmSync(lockPath, { force: true });
    }
  }
  throw new Error(`Could not lock the PGlite data directory ${dataDir} (${lockPath})`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** A minimal async mutex. */
export class Mutex {
  #tail: Promise<void> = Promise.resolve();

  async run<T>(fn: () => Promise<T>): Promise<T> {
    const previous = this.#tail;
    let release!: () => void;
    this.#tail = new Promise<void>((resolve) => {
      release = resolve;
    });
    await previous;
    try {
      return await fn();
    } finally {
      release();
    }
  }
}
