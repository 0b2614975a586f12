/**
 * Test support: a private Podman service per test file, and tiny local images (busybox web
 * server, exiting image) built through the engine since nothing can be pulled.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Effect } from "effect";
import { type DockerEngine, makeDockerEngine } from "../engine.ts";
import { type PodmanService, startPodmanService } from "../podman-service.ts";
import { removeContainersByLabels } from "./images.ts";

export * from "./images.ts";

/** Every container a test starts carries this label, so afterAll can remove them all. */
export const TEST_RUN_LABEL = "ferry.test-run";

export interface TestPodman {
  readonly service: PodmanService;
  readonly engine: DockerEngine;
  /** A value for TEST_RUN_LABEL unique to this service. */
  readonly runId: string;
  /** Removes every container labelled with runId, then stops the service and deletes its directory. */
  readonly stop: () => Promise<void>;
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
};

/**
 * Removes test containers left by test processes that died before their afterAll (the run id
 * starts with the pid); those of live processes, such as other test files, are left alone.
 */
export const removeOrphanTestContainers = async (engine: DockerEngine): Promise<number> => {
  const all = await Effect.runPromise(engine.listContainers({}));
  const orphans = all.filter((c) => {
    const runId = c.Labels?.[TEST_RUN_LABEL];
    if (runId === undefined) return false;
    const pid = Number(runId.split("-")[0]);
    return Number.isInteger(pid) && pid > 0 && !isAlive(pid);
  });
  await Promise.all(
    orphans.map((c) => Effect.runPromise(Effect.ignore(engine.removeContainer(c.Id)))),
  );
  return orphans.length;
};

/**
 * Starts a Podman service in a fresh temporary directory and an engine client on it. Fails
 * (never skips) when Podman is missing, with the apt-get line that installs it.
 */
export const startTestPodman = async (
  options: { readonly podmanPath?: string } = {},
): Promise<TestPodman> => {
  const runtimeDir = await mkdtemp(join(tmpdir(), "ferry-podman-"));
  let service: PodmanService;
  try {
    service = await startPodmanService({ runtimeDir, ...options });
  } catch (error) {
    await rm(runtimeDir, { recursive: true, force: true });
    throw error;
  }
  const engine = makeDockerEngine({ url: service.url });
  const runId = `${process.pid}-${Date.now().toString(36)}`;
  await removeOrphanTestContainers(engine);
  return {
    service,
    engine,
    runId,
    stop: async () => {
      try {
        await removeContainersByLabels(engine, { [TEST_RUN_LABEL]: runId });
      } finally {
        await Effect.runPromise(engine.close);
        await service.stop();
        await rm(runtimeDir, { recursive: true, force: true });
      }
    },
  };
};
