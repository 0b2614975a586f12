/**
 * Starts a private `podman system service` (a Docker Engine API on a unix socket in a directory
 * of the caller's), and finds an engine that already runs. Nothing under /etc is written: the
 * Podman settings go to a containers.conf in that directory, named by CONTAINERS_CONF.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { constants, existsSync } from "node:fs";
import { access, mkdir, open, readFile, rm, writeFile } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Effect, Either } from "effect";
import { MAX_SOCKET_PATH_BYTES } from "./endpoint.ts";
import { makeDockerEngine } from "./engine.ts";

/**
 * The settings Podman needs on Ferry's machines: runc (crun fails on hybrid cgroups),
 * cgroupfs, file events (no journald), and ulimits within the sandbox's hard nofile limit.
 */
export const CONTAINERS_CONF = `[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
`;

export const INSTALL_HINT = "apt-get install -y podman runc busybox-static";

export interface PodmanServiceOptions {
  /** A directory of the caller's (created if missing): socket, containers.conf and log go here. */
  readonly runtimeDir: string;
  /** The podman binary; default `podman` on PATH. */
  readonly podmanPath?: string;
  /** How long to wait for the API to answer `/_ping`. Default 30 s. */
  readonly readyTimeoutMs?: number;
  /** Extra environment for the service. */
  readonly env?: Readonly<Record<string, string>>;
}

export interface PodmanService {
  readonly socketPath: string;
  /** `unix://<socketPath>`, for DOCKER_HOST or `makeDockerEngine({ url })`. */
  readonly url: string;
  readonly containersConfPath: string;
  /** The service's stdout and stderr. */
  readonly logPath: string;
  readonly pid: number;
  /** Stops the service (SIGTERM, then SIGKILL after 10 s). Containers it started keep running. */
  readonly stop: () => Promise<void>;
}

export class PodmanServiceError extends Error {
  override readonly name = "PodmanServiceError";
}

const isExecutable = async (path: string) => {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** The absolute path of `command` on PATH (plus the sbin directories root has), or undefined. */
export const findExecutable = async (
  command: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<string | undefined> => {
  if (command.includes("/")) return (await isExecutable(command)) ? command : undefined;
  const dirs = [
    ...(env.PATH ?? "").split(delimiter),
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
  ];
  for (const dir of dirs) {
    if (dir.length === 0) continue;
    const candidate = join(dir, command);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
};

const answersPing = async (url: string, timeoutMs = 2000): Promise<boolean> => {
  const engine = makeDockerEngine({ url, requestTimeout: timeoutMs });
  try {
    const result = await Effect.runPromise(Effect.either(engine.ping));
    return Either.isRight(result);
  } finally {
    await Effect.runPromise(engine.close);
  }
};

const logTail = async (path: string, lines = 15): Promise<string> => {
  try {
    return (await readFile(path, "utf8")).trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
};

const waitForExit = (child: ChildProcess, ms: number): Promise<boolean> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve(true)
    : new Promise((resolve) => {
        const timer = setTimeout(() => resolve(false), ms);
        child.once("exit", () => {
          clearTimeout(timer);
          resolve(true);
        });
      });

/**
 * Writes `<runtimeDir>/containers.conf`, starts
 * `podman system service --time=0 unix://<runtimeDir>/podman.sock` with CONTAINERS_CONF and
 * BUILDAH_ISOLATION=chroot, and resolves once `GET /_ping` answers OK. Fails with an actionable
 * message when podman or runc is missing, or the service dies or does not answer in time.
 */
export const startPodmanService = async (options: PodmanServiceOptions): Promise<PodmanService> => {
  const podman = await findExecutable(options.podmanPath ?? "podman");
  if (podman === undefined)
    throw new PodmanServiceError(
      `podman is not installed (no executable ${options.podmanPath ?? "podman"} on PATH or in the sbin/bin directories); install it with: ${INSTALL_HINT}`,
    );
  if ((await findExecutable("runc")) === undefined)
    throw new PodmanServiceError(
      `runc is not installed (Ferry runs Podman with runc; crun fails on these hosts); install it with: ${INSTALL_HINT}`,
    );

  await mkdir(options.runtimeDir, { recursive: true });
  const socketPath = join(options.runtimeDir, "podman.sock");
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_BYTES)
    throw new PodmanServiceError(
      `the socket path ${socketPath} is longer than ${MAX_SOCKET_PATH_BYTES} bytes; use a shorter runtimeDir`,
    );
  const url = `unix://${socketPath}`;
  if (existsSync(socketPath)) {
    if (await answersPing(url))
      throw new PodmanServiceError(
        `an engine already answers at ${socketPath}; stop it or use another runtimeDir`,
      );
    await rm(socketPath, { force: true }); // left by a service that died
  }

  const containersConfPath = join(options.runtimeDir, "containers.conf");
  await writeFile(containersConfPath, CONTAINERS_CONF);
  const logPath = join(options.runtimeDir, "podman-service.log");
  const log = await open(logPath, "a");

  const child = spawn(podman, ["system", "service", "--time=0", url], {
    env: {
      ...process.env,
      ...options.env,
      CONTAINERS_CONF: containersConfPath,
      BUILDAH_ISOLATION: "chroot",
    },
    stdio: ["ignore", log.fd, log.fd],
  });
  await log.close();
  // If this process exits without calling stop(), the service goes with it.
  const killOnExit = () => {
    child.kill("SIGKILL");
  };
  process.once("exit", killOnExit);

  let spawnError: Error | undefined;
  child.once("error", (error) => {
    spawnError = error;
  });

  const stop = async () => {
    process.removeListener("exit", killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      if (!(await waitForExit(child, 10_000))) {
        child.kill("SIGKILL");
        await waitForExit(child, 5_000);
      }
    }
    await rm(socketPath, { force: true });
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (spawnError !== undefined || child.exitCode !== null || child.signalCode !== null) {
      await stop();
      const why = spawnError?.message ?? `exited with ${child.exitCode ?? child.signalCode}`;
      throw new PodmanServiceError(
        `podman system service ${why} before answering; its log (${logPath}):\n${await logTail(logPath)}`,
      );
    }
    if (existsSync(socketPath) && (await answersPing(url, 1000))) break;
    if (Date.now() > deadline) {
      await stop();
      throw new PodmanServiceError(
        `podman system service did not answer on ${socketPath} within ${options.readyTimeoutMs ?? 30_000} ms; its log (${logPath}):\n${await logTail(logPath)}`,
      );
    }
    await sleep(50);
  }

  return {
    socketPath,
    url,
    containersConfPath,
    logPath,
    pid: child.pid ?? -1,
    stop,
  };
};

export type EngineDetection =
  | {
      readonly found: true;
      readonly url: string;
      readonly source: "DOCKER_HOST" | "socket";
    }
  | { readonly found: false; readonly reason: string };

export const DEFAULT_ENGINE_SOCKETS: ReadonlyArray<string> = [
  "/run/podman/podman.sock",
  "/var/run/docker.sock",
];

export interface DetectEngineOptions {
  /** Default process.env (DOCKER_HOST, PATH). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Sockets tried in order when DOCKER_HOST is unset. */
  readonly sockets?: ReadonlyArray<string>;
  /** The podman binary whose presence shapes the advice; default `podman` on PATH. */
  readonly podmanPath?: string;
}

/**
 * Finds a running engine: DOCKER_HOST when set (and then only it), else the first socket of
 * `sockets` that answers `/_ping`. When none does, `reason` says what to install or start.
 */
export const detectEngine = async (options: DetectEngineOptions = {}): Promise<EngineDetection> => {
  const env = options.env ?? process.env;
  const dockerHost = env.DOCKER_HOST?.trim();
  if (dockerHost !== undefined && dockerHost.length > 0) {
    let reachable = false;
    try {
      reachable = await answersPing(dockerHost);
    } catch (error) {
      return {
        found: false,
        reason: `DOCKER_HOST=${dockerHost} is not usable: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
    return reachable
      ? { found: true, url: dockerHost, source: "DOCKER_HOST" }
      : {
          found: false,
          reason: `DOCKER_HOST=${dockerHost} is set but no engine answers there; start it or unset DOCKER_HOST`,
        };
  }
  const sockets = options.sockets ?? DEFAULT_ENGINE_SOCKETS;
  for (const socket of sockets) {
    if (existsSync(socket) && (await answersPing(`unix://${socket}`)))
      return { found: true, url: `unix://${socket}`, source: "socket" };
  }
  const tried = sockets.join(", ");
  const podman = await findExecutable(options.podmanPath ?? "podman", env);
  return {
    found: false,
    reason:
      podman === undefined
        ? `no container engine found: DOCKER_HOST is unset and nothing answers at ${tried}. Install Podman with: ${INSTALL_HINT} (Ferry then starts its own Podman service), or set DOCKER_HOST to a Docker or Podman socket`
        : `no container engine is running: DOCKER_HOST is unset and nothing answers at ${tried}. Podman is installed (${podman}): let Ferry start its own service, run \`podman system service --time=0\`, or set DOCKER_HOST`,
  };
};
