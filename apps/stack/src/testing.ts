/**
 * The whole stack for other packages' end-to-end tests (the CLI, the embedded library's
 * example, batch operations): every port free and chosen here, a temporary data directory,
 * the parts' output kept for failure messages, and a stop that also removes the
 * installation's containers and the data directory. With it, what those tests do to the running
 * stack: Connect clients with its API key (./testing/api.ts), requests to frontline with a
 * deployment's Host (./testing/frontline.ts) and uploads of build contexts (./testing/upload.ts).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { type DockerEngine, makeDockerEngine } from "@ferry/containers";
import { removeContainersByLabels } from "@ferry/containers/testing";
import { loadStackConfig } from "./config.ts";
import { type Stack, startStack } from "./stack.ts";

export * from "./testing/api.ts";
export * from "./testing/frontline.ts";
export * from "./testing/upload.ts";

/** A TCP port nobody listens on now (the OS picks it). */
export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });

export interface TestStack extends Stack {
  /** Every line the parts printed, prefixed with the part's name. */
  readonly output: ReadonlyArray<string>;
  /** Stops the parts, removes this installation's containers and the data directory. */
  readonly dispose: () => Promise<void>;
}

export interface TestStackOptions {
  /** Extra environment for ctrl and hydra (shorter timeouts, build storage, ...). */
  readonly env?: Readonly<Record<string, string>>;
  /** Prefix of the temporary data directory. */
  readonly name?: string;
}

export const startTestStack = async (options: TestStackOptions = {}): Promise<TestStack> => {
  const dataDir = mkdtempSync(path.join(tmpdir(), `${options.name ?? "ferry-stack"}-`));
  const output: Array<string> = [];
  const config = loadStackConfig({
    PATH: process.env.PATH,
    FERRY_DATA_DIR: dataDir,
    FERRY_API_PORT: String(await freePort()),
    FERRY_HYDRA_PORT: String(await freePort()),
    FERRY_FRONTLINE_PORT: String(await freePort()),
    FERRY_RESTATE_INGRESS_PORT: String(await freePort()),
    FERRY_RESTATE_ADMIN_PORT: String(await freePort()),
    FERRY_RESTATE_NODE_PORT: String(await freePort()),
    FERRY_LOG_LEVEL: "info",
  });
  let stack: Stack;
  try {
    stack = await startStack(config, {
      onLine: (part, line) => output.push(`[${part}] ${line}`),
      say: () => undefined,
      ...(options.env === undefined ? {} : { env: options.env }),
    });
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw new Error(
      `the stack did not start: ${error instanceof Error ? error.message : String(error)}\n${output.slice(-40).join("\n")}`,
    );
  }
  const dispose = async () => {
    // Containers first: stop() also stops the Podman service the stack may have started.
    if (stack.engineUrl !== undefined)
      await removeContainersByLabels(makeDockerEngine({ url: stack.engineUrl }), {
        "ferry.installation": stack.installation,
      }).catch(() => undefined);
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  return { ...stack, output, dispose };
};

/** A client of the engine the stack runs deployments on; without one, fails saying why. */
export const engineOf = (stack: Pick<Stack, "engineUrl" | "engineProblem">): DockerEngine => {
  if (stack.engineUrl === undefined)
    throw new Error(
      `the stack has no container engine: ${stack.engineProblem ?? "no reason given"}`,
    );
  return makeDockerEngine({ url: stack.engineUrl });
};
