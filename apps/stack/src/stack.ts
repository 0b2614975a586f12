/**
 * The whole Ferry stack on embedded defaults, in dependency order:
 *
 *   container engine (found, or a Podman API service started here)
 *   → restate-server (data in <dataDir>/restate)
 *   → ctrl (owns the embedded PGlite in <dataDir>/pglite, serves it on a socket)
 *   → hydra (connects to that socket, registers itself with Restate)
 *   → frontline (the gateway: its route table is pushed by ctrl's route feed)
 *
 * stop() ends them in reverse order. Containers of deployments keep running
 * (they are the deployments); hydra's reconciliation tidies orphans at its
 * next start.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { detectEngine, INSTALL_HINT, startPodmanService } from "@ferry/containers";
import { type RestateServer, startRestateServer } from "@ferry/restate/server";
import type { StackConfig } from "./config.ts";
import { type Child, startChild, waitFor } from "./processes.ts";

const APPS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface Stack {
  readonly apiUrl: string;
  readonly apiKey: string;
  readonly restate: { readonly ingressUrl: string; readonly adminUrl: string };
  readonly hydraUrl: string;
  /** The gateway: requests with a deployment's hostname in `Host` reach its instances. */
  readonly frontlineUrl: string;
  /** Undefined when no container engine could be found or started. */
  readonly engineUrl: string | undefined;
  /** Why there is no engine, and how to get one. */
  readonly engineProblem: string | undefined;
  /** The label every container of this installation carries (`ferry.installation`). */
  readonly installation: string;
  readonly dataDir: string;
  /** The embedded database as ctrl serves it (PGlite over the PostgreSQL protocol). */
  readonly databaseUrl: string;
  /** The SecretBox key ring ctrl and hydra use (configured, or generated into the data directory). */
  readonly secretKeys: string | undefined;
  readonly stop: () => Promise<void>;
}

export interface StartStackOptions {
  /** Each line of the parts' output (default: stdout, prefixed). */
  readonly onLine?: (part: string, line: string) => void;
  /** Extra environment for ctrl and hydra (tests shorten timeouts this way). */
  readonly env?: Readonly<Record<string, string>>;
  /** Progress messages (default: stdout). */
  readonly say?: (message: string) => void;
}

/** The bootstrap token: configured, or generated once into the data directory (mode 0600). */
const bootstrapToken = (config: StackConfig): string => {
  if (config.bootstrapToken !== undefined) return config.bootstrapToken;
  const file = path.join(config.dataDir, "bootstrap-token");
  try {
    return readFileSync(file, "utf8").trim();
  } catch {
    const token = `ferry_${randomBytes(32).toString("base64url")}`;
    writeFileSync(file, `${token}\n`, { mode: 0o600, flag: "wx" });
    return token;
  }
};

const readFile = async (file: string) => {
  const text = readFileSync(file, "utf8").trim();
  return text === "" ? undefined : text;
};

/** The status a GET of `/` with this Host header gets (node:http: fetch may not set Host). */
const statusOf = (url: string, host: string) =>
  new Promise<number>((resolve, reject) => {
    const request = http.get(`${url}/`, { headers: { host }, timeout: 2_000 }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.once("timeout", () => request.destroy(new Error("timeout")));
    request.once("error", reject);
  });

const answers = async (url: string) => ((await fetch(url)).ok ? true : undefined);

export const startStack = async (
  config: StackConfig,
  options: StartStackOptions = {},
): Promise<Stack> => {
  const say = options.say ?? ((message: string) => process.stdout.write(`${message}\n`));
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const step of stops.splice(0).reverse()) await step().catch(() => undefined);
  };
  const lineFor = (part: string) =>
    options.onLine === undefined ? undefined : (line: string) => options.onLine?.(part, line);

  try {
    mkdirSync(config.dataDir, { recursive: true });
    const apiKey = bootstrapToken(config);

    // 1. A container engine: configured, already running, or a Podman service of our own.
    let engineUrl = config.engineUrl;
    let engineProblem: string | undefined;
    if (engineUrl === undefined) {
      const found = await detectEngine();
      if (found.found) engineUrl = found.url;
      else {
        try {
          const podman = await startPodmanService({
            runtimeDir: path.join(config.dataDir, "podman"),
          });
          stops.push(podman.stop);
          engineUrl = podman.url;
        } catch (error) {
          engineProblem = `no container engine: ${error instanceof Error ? error.message : String(error)}. Install one with \`${INSTALL_HINT}\`; the API still serves, deployments fail until then.`;
          say(engineProblem);
        }
      }
    }

    // 2. Restate.
    say("starting restate-server ...");
    const restate: RestateServer = await startRestateServer({
      baseDir: path.join(config.dataDir, "restate"),
      ports: config.restatePorts,
      partitions: 4,
    });
    stops.push(restate.stop);

    // 3. ctrl: migrates and serves the embedded database.
    say("starting ctrl ...");
    const urlFile = path.join(config.dataDir, "pglite.url");
    writeFileSync(urlFile, "");
    const shared = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      FERRY_DATA_DIR: config.dataDir,
      FERRY_RESTATE_ADMIN_URL: restate.adminUrl,
      ...config.passThrough,
      ...options.env,
    };
    const ctrl: Child = startChild({
      name: "ctrl",
      entry: path.join(APPS, "ctrl/src/main.ts"),
      cwd: path.join(APPS, "ctrl"),
      env: {
        ...shared,
        ...config.buildSettings,
        ...options.env,
        FERRY_API_PORT: String(config.apiPort),
        FERRY_RESTATE_INGRESS_URL: restate.ingressUrl,
        FERRY_BOOTSTRAP_TOKEN: apiKey,
      },
      onLine: lineFor("ctrl"),
    });
    stops.push(() => ctrl.stop());
    const apiUrl = `http://127.0.0.1:${config.apiPort}`;
    await waitFor("ctrl to answer /healthz", () => answers(`${apiUrl}/healthz`), {
      timeoutMs: 120_000,
      child: ctrl,
    });
    const databaseUrl = await waitFor("ctrl's database URL", () => readFile(urlFile), {
      timeoutMs: 10_000,
      child: ctrl,
    });
    const secretKeys =
      config.passThrough.FERRY_SECRET_KEYS ??
      (await readFile(path.join(config.dataDir, "secret-keys")));

    // 4. hydra: registers itself with Restate at start. Its containers carry a label naming this
    // installation, so its reconciliation never removes another installation's containers on a
    // shared engine (Podman's storage is shared by every service on the machine).
    const installation = createHash("sha256").update(config.dataDir).digest("hex").slice(0, 12);
    say("starting hydra ...");
    const hydraUrl = `http://127.0.0.1:${config.hydraPort}`;
    const hydra: Child = startChild({
      name: "hydra",
      entry: path.join(APPS, "hydra/src/main.ts"),
      cwd: path.join(APPS, "hydra"),
      env: {
        ...shared,
        ...config.buildSettings,
        ...options.env,
        FERRY_DATABASE_URL: databaseUrl,
        FERRY_RESTATE_INGRESS_URL: restate.ingressUrl,
        // PGlite is one session behind its socket: more connections add no parallelism, and
        // their statements interleave on it (see @ferry/db pglite.ts).
        FERRY_DATABASE_POOL_SIZE: "1",
        FERRY_HYDRA_PORT: String(config.hydraPort),
        FERRY_INSTANCE_LABELS: `ferry.installation=${installation}`,
        ...(secretKeys === undefined ? {} : { FERRY_SECRET_KEYS: secretKeys }),
        ...(engineUrl === undefined ? {} : { FERRY_CONTAINER_ENGINE_URL: engineUrl }),
      },
      onLine: lineFor("hydra"),
    });
    stops.push(() => hydra.stop());
    await waitFor(
      "hydra to register with Restate",
      () => answers(`${restate.adminUrl}/services/project`),
      { timeoutMs: 60_000, child: hydra },
    );

    // 5. frontline: authenticates to ctrl's route feed with the installation's internal token
    // (generated by ctrl into the data directory). Ready once it answers an unknown host with 404
    // (503 until its first snapshot).
    say("starting frontline ...");
    const internalToken = await waitFor(
      "ctrl's internal token",
      () => readFile(path.join(config.dataDir, "internal-token")),
      { timeoutMs: 10_000, child: ctrl },
    );
    const frontlineUrl = `http://127.0.0.1:${config.frontlinePort}`;
    const frontline: Child = startChild({
      name: "frontline",
      entry: path.join(APPS, "frontline/src/main.ts"),
      cwd: path.join(APPS, "frontline"),
      env: {
        ...shared,
        FERRY_FRONTLINE_PORT: String(config.frontlinePort),
        FERRY_CTRL_URL: apiUrl,
        FERRY_INTERNAL_TOKEN: internalToken,
      },
      onLine: lineFor("frontline"),
    });
    stops.push(() => frontline.stop());
    await waitFor(
      "frontline to load its routes",
      async () => ((await statusOf(frontlineUrl, "ready.invalid")) === 404 ? true : undefined),
      { timeoutMs: 30_000, child: frontline },
    );

    return {
      apiUrl,
      apiKey,
      frontlineUrl,
      restate: { ingressUrl: restate.ingressUrl, adminUrl: restate.adminUrl },
      hydraUrl,
      engineUrl,
      engineProblem,
      installation,
      dataDir: config.dataDir,
      databaseUrl,
      secretKeys,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
};
