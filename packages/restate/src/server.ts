/**
 * A real restate-server (the binary from the npm package `@restatedev/restate-server`) for tests
 * and for the embedded stack: start it on its own ports in its own directory, wait until it
 * serves, stop, kill (for crash tests) and restart it with the same data and ports. Plus the few
 * admin API calls a harness needs: register a deployment, query invocations, wait for one.
 *
 * The server runs with a hermetic environment (only what these options set: no `RESTATE_*`
 * variable leaks in from the parent), listens on TCP only (no unix sockets, whose paths are
 * limited to 108 bytes and would break under deep temporary directories), on 127.0.0.1, and
 * appends its log to `<baseDir>/restate-server.log`.
 *
 * ```ts
 * const server = await startRestateServer({ baseDir, noRetries: true, alwaysReplay: true });
 * await registerDeployment(server.adminUrl, "http://127.0.0.1:9080");
 * // ... call server.ingressUrl ...
 * await server.stop();
 * ```
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer, type Server } from "node:net";
import { arch, platform } from "node:os";
import { join } from "node:path";

/**
 * The switches Restate's own test harness sets on the server (plain environment variables).
 * Combine them with `env`, or use the `alwaysReplay` / `noRetries` options.
 */
export const TEST_SWITCHES = {
  /**
   * Suspend an invocation at every await, so each step resumes by replaying the journal: a
   * handler that is not deterministic fails fast instead of in production after a crash.
   */
  alwaysReplay: { RESTATE_WORKER__INVOKER__INACTIVITY_TIMEOUT: "0s" },
  /**
   * One attempt per invocation, then kill it (instead of 70 attempts and a pause, the default):
   * a handler that throws a retryable error fails the test at once instead of hanging it.
   */
  noRetries: {
    RESTATE_DEFAULT_RETRY_POLICY__MAX_ATTEMPTS: "1",
    RESTATE_DEFAULT_RETRY_POLICY__ON_MAX_ATTEMPTS: "kill",
  },
} as const;

export interface RestatePorts {
  readonly ingress: number;
  readonly admin: number;
  /** The node-to-node ("message fabric") port. */
  readonly node: number;
}

export interface StartRestateServerOptions {
  /** The server's data directory (created if missing); restart() reuses it. */
  readonly baseDir: string;
  /**
   * `"random"` (the default): free ports picked on 127.0.0.1, never the defaults
   * 8080/9070/5122. A start that loses a port to another process is retried with new ones.
   */
  readonly ports?: "random" | RestatePorts;
  /** Extra environment variables for the server (e.g. `RESTATE_...` configuration). */
  readonly env?: Readonly<Record<string, string>>;
  /** Sets {@link TEST_SWITCHES.alwaysReplay}. */
  readonly alwaysReplay?: boolean;
  /** Sets {@link TEST_SWITCHES.noRetries}. */
  readonly noRetries?: boolean;
  /**
   * Partitions provisioned when the cluster is created (the first start of a `baseDir`; ignored
   * after). Restate's default is 24; a test server needs far fewer (fewer threads, faster start).
   */
  readonly partitions?: number;
  /** Memory RocksDB may use in total (Restate's default is 2 GiB), e.g. `"256 MiB"`. */
  readonly rocksdbMemory?: string;
  /** Path of the restate-server binary; defaults to the one installed from npm. */
  readonly binary?: string;
  /** How long a start may take until both APIs answer. Default 30 s. */
  readonly startTimeoutMs?: number;
  /** How long stop() waits after SIGTERM before it sends SIGKILL. Default 15 s. */
  readonly stopTimeoutMs?: number;
}

export interface RestateServer {
  /** e.g. `http://127.0.0.1:41234` (no trailing slash). */
  readonly ingressUrl: string;
  readonly adminUrl: string;
  readonly ports: RestatePorts;
  readonly baseDir: string;
  /** Where the server's stdout and stderr are appended (across restarts). */
  readonly logFile: string;
  /** The pid of the running process, undefined when stopped. */
  readonly pid: () => number | undefined;
  /** SIGTERM and wait for the exit (SIGKILL after `stopTimeoutMs`). Idempotent. */
  readonly stop: () => Promise<void>;
  /** SIGKILL, as a crash would; data written so far stays in `baseDir`. Idempotent. */
  readonly kill: () => Promise<void>;
  /** Stops (if running) and starts again with the same directory, ports and environment. */
  readonly restart: () => Promise<void>;
  readonly [Symbol.asyncDispose]: () => Promise<void>;
}

export class RestateServerError extends Error {
  override readonly name = "RestateServerError";
}

const HOST = "127.0.0.1";
const NODE_NAME = "ferry";
const LOG_TAIL_LINES = 30;

/** Servers started by this process, killed if the process exits without stopping them. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;
const installExitHook = () => {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const child of running) child.kill("SIGKILL");
  });
};

/**
 * The binary that `@restatedev/restate-server` installs through its platform package
 * (`@restatedev/restate-server-<platform>-<arch>/bin/restate-server`); the same resolution as
 * the package's own launcher, which we skip so that signals reach the server itself.
 */
export const restateServerBinary = (): string => {
  const require = createRequire(import.meta.url);
  const launcher = require.resolve("@restatedev/restate-server/package.json");
  const platformPackage = `@restatedev/restate-server-${platform()}-${arch()}`;
  try {
    return createRequire(launcher).resolve(`${platformPackage}/bin/restate-server`);
  } catch {
    throw new RestateServerError(
      `restate-server has no binary for ${platform()}-${arch()}: ${platformPackage} is not installed`,
    );
  }
};

const listenOnFreePort = (): Promise<Server> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, HOST, () => resolve(server));
  });

/** Three distinct free ports (held together while picked, so they differ). */
const pickFreePorts = async (): Promise<RestatePorts> => {
  const servers = await Promise.all([listenOnFreePort(), listenOnFreePort(), listenOnFreePort()]);
  const ports = servers.map((server) => {
    const address = server.address();
    return typeof address === "object" && address !== null ? address.port : 0;
  });
  await Promise.all(
    servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
  );
  const [ingress = 0, admin = 0, node = 0] = ports;
  return { ingress, admin, node };
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const answers = async (url: string, init: RequestInit = {}): Promise<boolean> => {
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(2_000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
};

/**
 * Ready means: both APIs answer their health checks, and a query over every partition
 * succeeds. The health checks alone pass while partitions have no leader yet (right after a
 * restart, queries fail with "node lookup for partition N failed" for a few hundred ms).
 * Even then, after a crash, a query may still fail for ~100 ms while partitions move from the
 * dead generation to the new one (`queryAdmin` retries those); the ingress waits for a leader
 * by itself.
 */
const isReady = async (adminUrl: string, ingressUrl: string): Promise<boolean> =>
  (await answers(`${adminUrl}/health`)) &&
  (await answers(`${ingressUrl}/restate/health`)) &&
  (await answers(`${adminUrl}/query`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ query: "SELECT count(*) AS n FROM sys_invocation" }),
  }));

const logTail = (logFile: string): string => {
  try {
    const lines = readFileSync(logFile, "utf8").trimEnd().split("\n");
    return lines.slice(-LOG_TAIL_LINES).join("\n");
  } catch {
    return "(no log)";
  }
};

const waitForExit = (child: ChildProcess, timeoutMs: number): Promise<boolean> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(true);
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });

/** Starts a restate-server and resolves when its admin and ingress APIs both answer. */
export const startRestateServer = async (
  options: StartRestateServerOptions,
): Promise<RestateServer> => {
  const binary = options.binary ?? restateServerBinary();
  const baseDir = options.baseDir;
  mkdirSync(baseDir, { recursive: true });
  const logFile = join(baseDir, "restate-server.log");
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  const stopTimeoutMs = options.stopTimeoutMs ?? 15_000;

  const environment = (ports: RestatePorts): Record<string, string> => ({
    // No usage telemetry from a test or an embedded server. (The release check at start is not
    // covered by it: offline, it logs one harmless "ERROR octocrab ... client error (Connect)".)
    RESTATE_DISABLE_TELEMETRY: "true",
    ...(options.rocksdbMemory === undefined
      ? {}
      : { RESTATE_ROCKSDB_TOTAL_MEMORY_SIZE: options.rocksdbMemory }),
    ...(options.alwaysReplay === true ? TEST_SWITCHES.alwaysReplay : {}),
    ...(options.noRetries === true ? TEST_SWITCHES.noRetries : {}),
    ...options.env,
    RESTATE_INGRESS__BIND_ADDRESS: `${HOST}:${ports.ingress}`,
    RESTATE_ADMIN__BIND_ADDRESS: `${HOST}:${ports.admin}`,
    RESTATE_BIND_ADDRESS: `${HOST}:${ports.node}`,
    RESTATE_ADVERTISED_ADDRESS: `http://${HOST}:${ports.node}/`,
  });

  const args = [
    "--base-dir",
    baseDir,
    "--node-name",
    NODE_NAME,
    "--listen-mode",
    "tcp",
    "--no-logo",
    "--log-disable-ansi-codes",
    "true",
    ...(options.partitions === undefined
      ? []
      : ["--default-num-partitions", String(options.partitions)]),
  ];

  let child: ChildProcess | undefined;

  /** Spawns the server and waits until both APIs answer; rejects (and kills it) otherwise. */
  const launch = async (ports: RestatePorts): Promise<void> => {
    const ingressUrl = `http://${HOST}:${ports.ingress}`;
    const adminUrl = `http://${HOST}:${ports.admin}`;
    const log = openSync(logFile, "a");
    let spawned: ChildProcess;
    try {
      spawned = spawn(binary, args, {
        cwd: baseDir,
        env: environment(ports),
        stdio: ["ignore", log, log],
      });
    } finally {
      closeSync(log);
    }
    installExitHook();
    running.add(spawned);
    let exit: string | undefined;
    let spawnError: Error | undefined;
    spawned.once("error", (error) => {
      spawnError = error;
    });
    spawned.once("exit", (code, signal) => {
      running.delete(spawned);
      exit = signal === null ? `exit code ${code}` : `signal ${signal}`;
    });
    child = spawned;

    const deadline = Date.now() + startTimeoutMs;
    for (;;) {
      if (spawnError !== undefined)
        throw new RestateServerError(`restate-server could not start: ${spawnError.message}`);
      if (exit !== undefined)
        throw new RestateServerError(
          `restate-server exited during start (${exit}); log ${logFile} ends with:\n${logTail(logFile)}`,
        );
      if (await isReady(adminUrl, ingressUrl)) return;
      if (Date.now() > deadline) {
        spawned.kill("SIGKILL");
        await waitForExit(spawned, 5_000);
        throw new RestateServerError(
          `restate-server was not ready within ${startTimeoutMs} ms (checked ${adminUrl}/health, ${ingressUrl}/restate/health and a query over every partition); log ${logFile} ends with:\n${logTail(logFile)}`,
        );
      }
      await sleep(50);
    }
  };

  let ports: RestatePorts;
  if (options.ports === undefined || options.ports === "random") {
    // Another process may take a picked port before the server binds it: try fresh ports.
    let attempt = 0;
    for (;;) {
      ports = await pickFreePorts();
      try {
        await launch(ports);
        break;
      } catch (error) {
        attempt++;
        const bindFailure =
          error instanceof RestateServerError &&
          /failed binding to address|Address in use|os error 98/i.test(error.message);
        if (!bindFailure || attempt >= 3) throw error;
      }
    }
  } else {
    ports = options.ports;
    await launch(ports);
  }

  const terminate = async (signal: "SIGTERM" | "SIGKILL") => {
    const current = child;
    if (current === undefined) return;
    if (current.exitCode === null && current.signalCode === null) {
      current.kill(signal);
      if (!(await waitForExit(current, signal === "SIGTERM" ? stopTimeoutMs : 5_000))) {
        current.kill("SIGKILL");
        await waitForExit(current, 5_000);
      }
    }
    running.delete(current);
    child = undefined;
  };

  const stop = () => terminate("SIGTERM");
  const fixedPorts = ports;
  return {
    ingressUrl: `http://${HOST}:${fixedPorts.ingress}`,
    adminUrl: `http://${HOST}:${fixedPorts.admin}`,
    ports: fixedPorts,
    baseDir,
    logFile,
    pid: () => child?.pid,
    stop,
    kill: () => terminate("SIGKILL"),
    restart: async () => {
      await stop();
      await launch(fixedPorts);
    },
    [Symbol.asyncDispose]: stop,
  };
};

// ---------------------------------------------------------------------------------------------
// Admin API helpers
// ---------------------------------------------------------------------------------------------

const trimSlash = (url: string) => url.replace(/\/+$/, "");

export interface RegisterDeploymentOptions {
  /**
   * Overwrite a deployment already registered at this URI (Restate's default is true; a test
   * endpoint that restarts on a new port with changed handlers needs it).
   */
  readonly force?: boolean;
  /** Discover over HTTP/1.1 (request/response mode) instead of HTTP/2 prior knowledge. */
  readonly useHttp11?: boolean;
  /** How long to keep retrying while the endpoint or the server is not up yet. Default 15 s. */
  readonly timeoutMs?: number;
}

export interface RegisteredDeployment {
  readonly id: string;
  readonly services: ReadonlyArray<string>;
}

/**
 * `POST {admin}/deployments`: registers a service endpoint (Restate discovers its services).
 * Retries while the endpoint or the admin API is not reachable yet (network errors, 5xx),
 * until `timeoutMs`; a 4xx answer fails at once.
 */
export const registerDeployment = async (
  adminUrl: string,
  endpointUri: string,
  options: RegisterDeploymentOptions = {},
): Promise<RegisteredDeployment> => {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const deadline = Date.now() + timeoutMs;
  const body = JSON.stringify({
    uri: endpointUri,
    force: options.force ?? true,
    ...(options.useHttp11 === true ? { use_http_11: true } : {}),
  });
  let last = "";
  for (let attempt = 0; ; attempt++) {
    try {
      const response = await fetch(`${trimSlash(adminUrl)}/deployments`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body,
        signal: AbortSignal.timeout(Math.max(1_000, Math.min(10_000, deadline - Date.now()))),
      });
      const text = await response.text();
      if (response.ok) {
        const parsed = JSON.parse(text) as {
          id: string;
          services?: ReadonlyArray<{ name: string }>;
        };
        return { id: parsed.id, services: (parsed.services ?? []).map((s) => s.name) };
      }
      last = `HTTP ${response.status}: ${text.slice(0, 500)}`;
      // An endpoint that is not up yet fails discovery with 500 (META0003, "connection
      // refused"): retried. A 4xx (malformed request 422, conflict without force 409) is final.
      if (response.status < 500)
        throw new RestateServerError(
          `the Restate admin API at ${adminUrl} refused to register the deployment ${endpointUri}: ${last}`,
        );
    } catch (error) {
      if (error instanceof RestateServerError) throw error;
      last = describeFetchError(error);
    }
    if (Date.now() + 200 > deadline) break;
    await sleep(Math.min(100 * 2 ** attempt, 1_000));
  }
  throw new RestateServerError(
    `could not register the deployment ${endpointUri} with the Restate admin API at ${adminUrl} within ${timeoutMs} ms: ${last}`,
  );
};

/** One row of `POST {admin}/query`, as JSON (column name → value). */
export type QueryRow = Readonly<Record<string, unknown>>;

/**
 * Query failures that last only while partitions change leaders (right after a start or a
 * restart, especially after a crash): "expecting a partition store", "node lookup for partition
 * N failed", "node N1:2 was shut down or removed" (the generation before the restart).
 * Restate reports them as `Datafusion error: External error: ...`; SQL mistakes are other kinds.
 */
const TRANSIENT_QUERY_ERROR = /External error|Query service not available/i;

export interface QueryOptions {
  /** How long transient failures (leaderless partitions, 503) are retried. Default 10 s. */
  readonly retryForMs?: number;
}

/**
 * `POST {admin}/query` with `accept: application/json` (the default answer is Apache Arrow):
 * runs SQL over Restate's introspection tables (`sys_invocation`, `state`, `sys_deployment`...).
 */
export const queryAdmin = async (
  adminUrl: string,
  sql: string,
  options: QueryOptions = {},
): Promise<ReadonlyArray<QueryRow>> => {
  const deadline = Date.now() + (options.retryForMs ?? 10_000);
  for (;;) {
    const response = await fetch(`${trimSlash(adminUrl)}/query`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ query: sql }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    if (response.ok) return (JSON.parse(text) as { rows: ReadonlyArray<QueryRow> }).rows;
    const transient = response.status === 503 || TRANSIENT_QUERY_ERROR.test(text);
    if (!transient || Date.now() > deadline)
      throw new RestateServerError(`query failed (HTTP ${response.status}): ${text.slice(0, 500)}`);
    await sleep(100);
  }
};

/** What `sys_invocation` says about one invocation (the columns the tests look at). */
export interface InvocationRow {
  readonly id: string;
  readonly target: string;
  /** pending, scheduled, ready, running, paused, backing-off, suspended, completed */
  readonly status: string;
  /** "success" or "failure" once completed. */
  readonly completion_result: string | null;
  /** e.g. "[409] Cancelled" when the invocation was cancelled. */
  readonly completion_failure: string | null;
  readonly idempotency_key: string | null;
}

const INVOCATION_COLUMNS =
  "id, target, status, completion_result, completion_failure, idempotency_key";

/** Rows of `sys_invocation`; `where` is a SQL condition, e.g. `target_service_key = 'prj_1'`. */
export const listInvocations = async (
  adminUrl: string,
  where = "true",
): Promise<ReadonlyArray<InvocationRow>> => {
  const rows = await queryAdmin(
    adminUrl,
    `SELECT ${INVOCATION_COLUMNS} FROM sys_invocation WHERE ${where} ORDER BY created_at`,
  );
  // The JSON answer leaves out columns whose value is null: put them back as null.
  const text = (value: unknown) => (typeof value === "string" ? value : null);
  return rows.map((row) => ({
    id: String(row.id),
    target: String(row.target),
    status: String(row.status),
    completion_result: text(row.completion_result),
    completion_failure: text(row.completion_failure),
    idempotency_key: text(row.idempotency_key),
  }));
};

export interface WaitForInvocationOptions {
  /** The statuses to wait for. Default: `["completed"]`. */
  readonly status?: ReadonlyArray<string>;
  /** Default 20 s. */
  readonly timeoutMs?: number;
}

/** Polls `sys_invocation` until the invocation reaches one of the statuses. */
export const waitForInvocation = async (
  adminUrl: string,
  invocationId: string,
  options: WaitForInvocationOptions = {},
): Promise<InvocationRow> => {
  if (!/^inv_[0-9A-Za-z]+$/.test(invocationId))
    throw new RestateServerError(`"${invocationId}" is not a Restate invocation id`);
  const wanted = options.status ?? ["completed"];
  const timeoutMs = options.timeoutMs ?? 20_000;
  const deadline = Date.now() + timeoutMs;
  let last: InvocationRow | undefined;
  let lastError = "";
  for (;;) {
    try {
      const rows = await listInvocations(adminUrl, `id = '${invocationId}'`);
      last = rows[0];
      if (last !== undefined && wanted.includes(last.status)) return last;
    } catch (error) {
      // A query fails while a partition has no leader (e.g. just after a restart): poll on.
      lastError = error instanceof Error ? `; last query error: ${error.message}` : "";
    }
    if (Date.now() > deadline)
      throw new RestateServerError(
        `invocation ${invocationId} did not reach ${wanted.join("/")} within ${timeoutMs} ms (last status: ${last?.status ?? "unknown"}${lastError})`,
      );
    await sleep(100);
  }
};

const describeFetchError = (error: unknown): string => {
  if (error instanceof Error) {
    const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
    const code = typeof cause?.code === "string" ? cause.code : undefined;
    if (error.name === "TimeoutError") return "timed out";
    return code ?? (typeof cause?.message === "string" ? cause.message : error.message);
  }
  return String(error);
};
