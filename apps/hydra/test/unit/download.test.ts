/**
 * Downloading a build context (deploy/build.ts): from real local build storage, and from a
 * storage that trickles its bytes (a fake, to make a download outlive its attempt's deadline).
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { localBuildStorage } from "@ferry/build-storage";
import { BuildStorage, type DeploymentId } from "@ferry/domain";
import { Effect, Exit, Layer, Option } from "effect";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { downloadContext } from "../../src/deploy/build.ts";
import type { DeployPlan } from "../../src/deploy/steps.ts";
import { Permanent } from "../../src/objects/durable.ts";
import type { BuildSettings } from "../../src/objects/requests.ts";

const KEY = "projects/prj_1/contexts/ctx.tar.gz";
const DEPLOYMENT = "dep_01jfz8x0000000000000000000" as DeploymentId;

const plan = { deploymentId: DEPLOYMENT, buildContext: { key: KEY, dockerfilePath: "Dockerfile" } };

let dir: string;
let settings: BuildSettings;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "ferry-hydra-download-"));
  settings = {
    jobsRoot: join(dir, "builds"),
    contextsDir: join(dir, "contexts"),
    maxArchiveBytes: 1024 * 1024,
    timeoutMs: 60_000,
    maxLogBytes: 64 * 1024,
    engineUrl: "unix:///nowhere.sock",
  };
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const local = () =>
  localBuildStorage({
    root: join(dir, "storage"),
    publicBaseUrl: "http://ctrl.invalid",
    signingSecret: new Uint8Array(32),
  });

const download = (storage: Layer.Layer<BuildStorage>, attemptMs?: number) =>
  Effect.runPromiseExit(
    downloadContext(plan as unknown as DeployPlan, settings, attemptMs).pipe(
      Effect.provide(storage),
    ),
  );

const failure = (exit: Exit.Exit<unknown, unknown>) => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure");
  const error = exit.cause._tag === "Fail" ? exit.cause.error : undefined;
  if (error === undefined) throw new Error(`expected a failure, got ${String(exit.cause)}`);
  return error;
};

describe("downloadContext", () => {
  it("copies the stored archive to the deployment's context file", async () => {
    const bytes = Buffer.alloc(300_000, 7);
    await mkdir(dirname(join(dir, "storage", KEY)), { recursive: true });
    await writeFile(join(dir, "storage", KEY), bytes);
    const exit = await download(local());
    expect(exit).toStrictEqual(Exit.succeed({ sizeBytes: 300_000 }));
    expect(await readFile(join(settings.contextsDir, `${DEPLOYMENT}.tar.gz`))).toStrictEqual(bytes);
    expect(await readdir(settings.contextsDir)).toStrictEqual([`${DEPLOYMENT}.tar.gz`]);
  });

  it("a missing archive fails at once, permanently, saying to upload it again", async () => {
    const error = failure(await download(local()));
    expect(error).toBeInstanceOf(Permanent);
    expect((error as Permanent).message).toBe(
      `the build context "${KEY}" is not in build storage (any more); upload it again and create a new deployment`,
    );
  });

  it("an archive over the limit fails before a byte is moved", async () => {
    await mkdir(dirname(join(dir, "storage", KEY)), { recursive: true });
    await writeFile(join(dir, "storage", KEY), Buffer.alloc(2 * 1024 * 1024));
    const error = failure(await download(local()));
    expect(error).toBeInstanceOf(Permanent);
    expect((error as Permanent).message).toMatch(
      /^the source archive is 2 MiB, over the limit of 1 MiB; /,
    );
    await expect(readdir(settings.contextsDir)).rejects.toThrow(/ENOENT/);
  });

  it("a download slower than its attempt's deadline is aborted, names the size, leaves no file", async () => {
    let cancelled = false;
    const trickling = Layer.succeed(BuildStorage, {
      createUploadUrl: () => Effect.die("unused"),
      remove: () => Effect.die("unused"),
      list: () => Effect.die("unused"),
      stat: () => Effect.succeed(Option.some({ sizeBytes: 1024 * 1024 })),
      read: () =>
        Effect.sync(() => {
          let timer: NodeJS.Timeout | undefined;
          return new ReadableStream<Uint8Array>({
            pull: (controller) =>
              new Promise<void>((resolve) => {
                timer = setTimeout(() => {
                  controller.enqueue(new Uint8Array(1024));
                  resolve();
                }, 20);
              }),
            cancel: () => {
              clearTimeout(timer);
              cancelled = true;
            },
          });
        }),
    });
    const started = Date.now();
    const error = failure(await download(trickling, 500));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error).not.toBeInstanceOf(Permanent);
    expect((error as Error).message).toMatch(
      new RegExp(
        `^downloading the build context "${KEY}" \\(1 MiB\\) from build storage did not finish within 0\\.5 s \\(\\d+(\\.\\d)? KiB received\\); build storage is too slow for an archive this size`,
      ),
    );
    // The stream was cancelled and the partial file removed: nothing goes on behind a retry.
    expect(cancelled).toBe(true);
    expect(await readdir(settings.contextsDir)).toStrictEqual([]);
  });
});
