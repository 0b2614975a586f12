/**
 * The ContainerRuntime adapter against the real Podman of this machine, through a private
 * `podman system service` started for this file. Without Podman these tests fail (they never
 * skip) with the apt-get line that installs it.
 */
import { CONTAINER_LABELS, ContainerRuntime, ContainerRuntimeError } from "@ferry/domain";
import { Effect, Either, Option } from "effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { layer, makeContainerRuntime } from "../src/index.ts";
import {
  exitingImage,
  removeOrphanTestContainers,
  startTestPodman,
  TEST_RUN_LABEL,
  type TestPodman,
  webServerImage,
} from "../src/testing/index.ts";

const CONTENT = "<h1>hello from a ferry test container</h1>\n";

let podman: TestPodman;
let runtime: ContainerRuntime["Type"];
let webImage: string;
let exitImage: string;

beforeAll(async () => {
  podman = await startTestPodman();
  runtime = makeContainerRuntime(podman.engine, { stopTimeoutSeconds: 1 });
  [webImage, exitImage] = await Promise.all([
    webServerImage(podman.engine, { content: CONTENT }),
    exitingImage(podman.engine, { exitCode: 3 }),
  ]);
});

afterAll(async () => {
  await podman?.stop();
});

const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect);

/** The failure of `effect`, which must fail. */
const failure = async <A, E>(effect: Effect.Effect<A, E>): Promise<E> => {
  const result = await Effect.runPromise(Effect.either(effect));
  if (Either.isRight(result)) throw new Error("expected a failure, got a success");
  return result.left;
};

let counter = 0;
const uniqueName = () => `ferry-test-${podman.runId}-${++counter}`;

const labelsFor = (deployment: string) => ({
  [CONTAINER_LABELS.workspace]: "ws_test",
  [CONTAINER_LABELS.project]: "proj_test",
  [CONTAINER_LABELS.deployment]: deployment,
  [TEST_RUN_LABEL]: podman.runId,
});

const webSpec = (deployment: string, env: Record<string, string> = {}) => ({
  name: uniqueName(),
  image: webImage,
  region: "local-1",
  containerPort: 8080,
  env,
  labels: labelsFor(deployment),
});

/** GET http://host:port/ until it answers (httpd may need a moment to bind). */
const httpGet = async (host: string, port: number): Promise<string> => {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const res = await fetch(`http://${host}:${port}/`, { signal: AbortSignal.timeout(2000) });
      return await res.text();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
};

const waitForState = async (containerId: string, state: string) => {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const instance = await run(runtime.inspect(containerId));
    if (instance.state === state || Date.now() > deadline) return instance;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

describe("ContainerRuntime over Podman's Docker Engine API", () => {
  it("starts a labelled web container on an engine-chosen 127.0.0.1 port, lists it, removes it", async () => {
    const deployment = `dep_${podman.runId}_web`;
    const spec = webSpec(deployment, {
      GREETING: "hello",
      DATABASE_URL: "postgres://app:s3cret-password@db/app",
    });

    const started = await run(runtime.start(spec));
    expect(started.state).toBe("running");
    expect(started.host).toBe("127.0.0.1");
    expect(started.port).toBeGreaterThan(0);

    const inspected = await run(runtime.inspect(started.containerId));
    expect(inspected).toEqual({
      containerId: started.containerId,
      host: "127.0.0.1",
      port: started.port,
      state: "running",
    });

    expect(await httpGet(inspected.host, inspected.port)).toBe(CONTENT);

    const raw = Option.getOrThrow(await run(podman.engine.inspectContainer(started.containerId)));
    expect(raw.Config.Env).toEqual(
      expect.arrayContaining([
        "GREETING=hello",
        "DATABASE_URL=postgres://app:s3cret-password@db/app",
      ]),
    );

    const listed = await run(runtime.listByLabels({ [CONTAINER_LABELS.deployment]: deployment }));
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({
      containerId: started.containerId,
      host: "127.0.0.1",
      port: started.port,
      state: "running",
      labels: {
        [CONTAINER_LABELS.workspace]: "ws_test",
        [CONTAINER_LABELS.project]: "proj_test",
        [CONTAINER_LABELS.deployment]: deployment,
        [CONTAINER_LABELS.region]: "local-1",
      },
    });

    await run(runtime.remove(started.containerId));
    const gone = await failure(runtime.inspect(started.containerId));
    expect(gone).toBeInstanceOf(ContainerRuntimeError);
    expect(gone.retryable).toBe(false);
    expect(gone.message).toContain("not found");
    expect(await run(runtime.listByLabels({ [CONTAINER_LABELS.deployment]: deployment }))).toEqual(
      [],
    );
    // Removing what is already gone succeeds.
    await run(runtime.remove(started.containerId));
  });

  it("fails on a missing image with `image not found`, not retryable, creating nothing", async () => {
    const spec = {
      ...webSpec(`dep_${podman.runId}_missing`, { API_TOKEN: "tok-very-secret-value" }),
      image: "localhost/ferry-missing:1",
    };
    const error = await failure(runtime.start(spec));
    expect(error).toBeInstanceOf(ContainerRuntimeError);
    expect(error.retryable).toBe(false);
    expect(error.message).toBe("image not found: localhost/ferry-missing:1");
    expect(Option.isNone(await run(podman.engine.inspectContainer(spec.name)))).toBe(true);
  });

  it("reports an exiting container as exited with its exit code, and its logs", async () => {
    const deployment = `dep_${podman.runId}_exit`;
    const started = await run(runtime.start({ ...webSpec(deployment), image: exitImage }));
    const exited = await waitForState(started.containerId, "exited");
    expect(exited.state).toBe("exited");
    expect(exited.exitCode).toBe(3);

    const listed = await run(runtime.listByLabels({ [CONTAINER_LABELS.deployment]: deployment }));
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ state: "exited", exitCode: 3 });

    const logs = await run(podman.engine.containerLogs(started.containerId, 5));
    expect(logs).toEqual(["ferry test image exiting with 3"]);

    await run(runtime.remove(started.containerId));
  });

  it("gives two containers of one deployment different host ports", async () => {
    const deployment = `dep_${podman.runId}_pair`;
    const [a, b] = await Promise.all([
      run(runtime.start(webSpec(deployment))),
      run(runtime.start(webSpec(deployment))),
    ]);
    expect(a.port).toBeGreaterThan(0);
    expect(b.port).toBeGreaterThan(0);
    expect(a.port).not.toBe(b.port);
    expect(await httpGet(a.host, a.port)).toBe(CONTENT);
    expect(await httpGet(b.host, b.port)).toBe(CONTENT);
    const listed = await run(runtime.listByLabels({ [CONTAINER_LABELS.deployment]: deployment }));
    expect(listed.map((i) => i.containerId).sort()).toEqual([a.containerId, b.containerId].sort());
  });

  it("adopts its own container when a start is retried, and refuses a name taken by another", async () => {
    const spec = webSpec(`dep_${podman.runId}_retry`);
    const first = await run(runtime.start(spec));
    const again = await run(runtime.start(spec));
    expect(again.containerId).toBe(first.containerId);
    expect(again.port).toBe(first.port);

    const other = { ...spec, labels: labelsFor(`dep_${podman.runId}_other`) };
    const error = await failure(runtime.start(other));
    expect(error.retryable).toBe(false);
    expect(error.message).toContain(`a container named ${spec.name} already exists`);
  });

  it("rejects an invalid spec before the engine sees it, without naming env values", async () => {
    const secret = "sk_live_do-not-print-me";
    const badName = await failure(
      runtime.start({ ...webSpec("dep_bad", { KEY: secret }), name: "bad name!" }),
    );
    expect(badName.retryable).toBe(false);
    expect(badName.message).toContain("invalid instance spec");
    const badEnv = await failure(runtime.start({ ...webSpec("dep_bad"), env: { "=x": secret } }));
    expect(badEnv.retryable).toBe(false);
    expect(badEnv.message).not.toContain(secret);
    const badPort = await failure(runtime.start({ ...webSpec("dep_bad"), containerPort: 70000 }));
    expect(badPort.retryable).toBe(false);
  });

  it("with pulling enabled, a pull that cannot succeed fails instead of hanging", async () => {
    const pulling = makeContainerRuntime(podman.engine, { pullMissingImages: true });
    // A registry on a closed loopback port: no traffic leaves the machine.
    const error = await failure(
      pulling.start({ ...webSpec(`dep_${podman.runId}_pull`), image: "127.0.0.1:9/ferry/none:1" }),
    );
    expect(error).toBeInstanceOf(ContainerRuntimeError);
    expect(error.message).toContain("127.0.0.1:9/ferry/none:1");
  });

  it("sweeps containers left by a test process that died", async () => {
    // No process has this pid (above Linux's pid_max).
    const orphanRun = "999999999-orphan";
    const created = await run(
      podman.engine.createContainer(uniqueName(), {
        Image: webImage,
        Labels: { [TEST_RUN_LABEL]: orphanRun },
      }),
    );
    expect(created._tag).toBe("Created");
    // Another test process may sweep it first; either way it is gone.
    await removeOrphanTestContainers(podman.engine);
    expect(await run(podman.engine.listContainers({ [TEST_RUN_LABEL]: orphanRun }))).toEqual([]);
  });

  it("removes an image: refused while a container uses it, then removed, then gone", async () => {
    // An image of this run only: the shared test images stay for the other tests.
    const image = await webServerImage(podman.engine, { content: `remove me ${podman.runId}` });
    const started = await run(runtime.start({ ...webSpec("dep_image"), image }));
    const refused = await failure(runtime.removeImage(image));
    expect(refused).toBeInstanceOf(ContainerRuntimeError);
    expect(refused.reason).toContain(`removing image ${image}`);
    expect(await run(podman.engine.imageExists(image))).toBe(true);

    await run(runtime.remove(started.containerId));
    expect(await run(runtime.removeImage(image))).toBe("removed");
    expect(await run(podman.engine.imageExists(image))).toBe(false);
    expect(await run(runtime.removeImage(image))).toBe("gone");
  });

  it("is provided as a Layer of the domain's ContainerRuntime", async () => {
    const listed = await Effect.runPromise(
      Effect.gen(function* () {
        const rt = yield* ContainerRuntime;
        return yield* rt.listByLabels({ [TEST_RUN_LABEL]: "no-such-run" });
      }).pipe(Effect.provide(layer({ url: podman.service.url }))),
    );
    expect(listed).toEqual([]);
  });
});
