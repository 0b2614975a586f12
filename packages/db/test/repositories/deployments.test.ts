/** DeploymentRepository on Prisma keeps the port's promises. */
import {
  type Deployment,
  type DeploymentId,
  DeploymentRepository,
  type DeploymentStatus,
  EnvironmentVariableRepository,
  type GitCommit,
  IdempotencyKeyTaken,
} from "@ferry/domain";
import { Effect, Either, Option } from "effect";
import { describe, expect, it } from "vitest";
import { testDatabaseKinds } from "../../src/testing.ts";
import {
  createDeployment,
  createTenant,
  failureOf,
  makeDeployment,
  makeProject,
  NOW,
  newId,
  plain,
  secret,
  setVariables,
  type Tenant,
  useRepositories,
} from "./harness.ts";

const utf8Length = (text: string): number => new TextEncoder().encode(text).length;

/** 10240 bytes of UTF-8 (the longest message the API keeps) of 1-, 2-, 3- and 4-byte characters. */
const LONG_MESSAGE = (() => {
  const head = `fix: déployer 🚀 日本語\n\n${"語".repeat(1000)}${"🚀".repeat(500)}`;
  const rest = 10240 - utf8Length(head);
  return `${head}${"é".repeat(Math.floor(rest / 2))}${"a".repeat(rest % 2)}`;
})();

describe.each(testDatabaseKinds())("DeploymentRepository on %s", (kind) => {
  const { run, exit, prisma } = useRepositories(kind);

  const statusesOf = (tenant: Tenant, ds: ReadonlyArray<Deployment>) =>
    Effect.flatMap(DeploymentRepository, (deployments) =>
      Effect.forEach(ds, (d) =>
        deployments
          .findById(tenant.workspace.id, d.id)
          .pipe(Effect.map(Option.map((found) => found.status))),
      ),
    );

  describe("create and find", () => {
    it("stores a minimal deployment exactly, found only in its workspace", async () => {
      await run(
        Effect.gen(function* () {
          const tenant = yield* createTenant();
          const stranger = yield* createTenant();
          const deployment = makeDeployment(tenant);
          const deployments = yield* DeploymentRepository;
          expect(yield* deployments.create(deployment)).toStrictEqual(deployment);
          expect(yield* deployments.findById(tenant.workspace.id, deployment.id)).toStrictEqual(
            Option.some(deployment),
          );
          expect(yield* deployments.findById(stranger.workspace.id, deployment.id)).toStrictEqual(
            Option.none(),
          );
          expect(
            yield* deployments.findById(tenant.workspace.id, newId("deployment")),
          ).toStrictEqual(Option.none());
        }),
      );
    });

    it("round-trips a build context source, every git field, regions and the optional fields", async () => {
      const gitCommit: GitCommit = {
        commitSha: "0123456789abcdef0123456789abcdef01234567",
        branch: "feature/ünïcode-🚀",
        commitMessage: LONG_MESSAGE,
        authorHandle: "ada",
        authorAvatarUrl: "https://avatars.example.com/u/1?s=64",
        // Beyond 32 bits and beyond any seconds value; the largest integer a number holds exactly.
        timestamp: Number.MAX_SAFE_INTEGER,
      };
      expect(utf8Length(LONG_MESSAGE)).toBe(10240);
      await run(
        Effect.gen(function* () {
          const tenant = yield* createTenant();
          const deployments = yield* DeploymentRepository;
          const built = makeDeployment(tenant, {
            environmentId: tenant.preview.id,
            environmentSlug: "preview",
            status: "BUILDING",
            source: {
              _tag: "BuildContext",
              buildContextPath: `projects/${tenant.project.id}/contexts/ctx-1.tar.gz`,
              dockerfilePath: "docker/web.Dockerfile",
            },
            gitCommit,
            regions: ["us-east", "eu-west", "ap-south"],
            image: "registry.local/web:built",
            idempotencyKey: "idem-全角-1",
            restateInvocationId: "inv_1",
            errorMessage: "previous attempt: ✗",
            createdAt: NOW - 1,
            updatedAt: NOW + 1,
          });
          const bare = makeDeployment(tenant, {
            regions: [],
            gitCommit: { branch: "main", timestamp: NOW },
          });
          expect(yield* deployments.create(built)).toStrictEqual(built);
          expect(yield* deployments.create(bare)).toStrictEqual(bare);
          expect(yield* deployments.findById(tenant.workspace.id, built.id)).toStrictEqual(
            Option.some(built),
          );
          expect(yield* deployments.findById(tenant.workspace.id, bare.id)).toStrictEqual(
            Option.some(bare),
          );
        }),
      );
      const row = await prisma().deployment.findFirstOrThrow({
        where: { gitCommitMessage: LONG_MESSAGE },
        select: { gitCommitTimestamp: true, regions: true },
      });
      expect(row).toStrictEqual({
        gitCommitTimestamp: BigInt(Number.MAX_SAFE_INTEGER),
        regions: ["us-east", "eu-west", "ap-south"],
      });
    });
  });

  describe("variable snapshot", () => {
    it("snapshots the environment's variables at creation, secrets sealed, ordered by key", async () => {
      await run(
        Effect.gen(function* () {
          const tenant = yield* createTenant();
          yield* setVariables(tenant.production.id, {
            LOG_LEVEL: plain("info"),
            API_TOKEN: secret("key-2025", "c2VhbGVk"),
            EMPTY: plain(""),
          });
          yield* setVariables(tenant.preview.id, { ONLY_PREVIEW: plain("1") });
          const deployments = yield* DeploymentRepository;
          const first = yield* createDeployment(tenant);
          const expected = [
            {
              _tag: "Secret",
              key: "API_TOKEN",
              sealed: { keyId: "key-2025", ciphertext: "c2VhbGVk" },
            },
            { _tag: "Plain", key: "EMPTY", value: "" },
            { _tag: "Plain", key: "LOG_LEVEL", value: "info" },
          ];
          expect(yield* deployments.snapshot(first.id)).toStrictEqual(expected);

          // Later changes to the environment do not touch the snapshot ...
          const variables = yield* EnvironmentVariableRepository;
          yield* setVariables(
            tenant.production.id,
            {
              LOG_LEVEL: plain("debug"),
              NEW: plain("x"),
              API_TOKEN: secret("key-2026", "bmV3"),
            },
            NOW + 1,
          );
          expect(yield* variables.unset(tenant.production.id, ["EMPTY"])).toBe(1);
          expect(yield* deployments.snapshot(first.id)).toStrictEqual(expected);

          // ... and the next deployment sees them.
          const second = yield* createDeployment(tenant);
          expect(yield* deployments.snapshot(second.id)).toStrictEqual([
            { _tag: "Secret", key: "API_TOKEN", sealed: { keyId: "key-2026", ciphertext: "bmV3" } },
            { _tag: "Plain", key: "LOG_LEVEL", value: "debug" },
            { _tag: "Plain", key: "NEW", value: "x" },
          ]);

          // Another environment's deployment snapshots that environment only.
          const preview = yield* createDeployment(tenant, {
            environmentId: tenant.preview.id,
            environmentSlug: "preview",
          });
          expect(yield* deployments.snapshot(preview.id)).toStrictEqual([
            { _tag: "Plain", key: "ONLY_PREVIEW", value: "1" },
          ]);

          // An environment without variables gives an empty snapshot.
          const bare = yield* createTenant();
          const empty = yield* createDeployment(bare);
          expect(yield* deployments.snapshot(empty.id)).toStrictEqual([]);
        }),
      );
    });

    it("a deployment refused for its idempotency key leaves no snapshot nor row behind", async () => {
      const tenant = await run(createTenant());
      await run(setVariables(tenant.production.id, { A: plain("1") }));
      await run(createDeployment(tenant, { idempotencyKey: "snap" }));
      const refused = makeDeployment(tenant, { idempotencyKey: "snap" });
      failureOf(await exit(Effect.flatMap(DeploymentRepository, (d) => d.create(refused))));
      expect(await prisma().deployment.count({ where: { id: refused.id } })).toBe(0);
    });
  });

  describe("idempotency keys", () => {
    it("refuses a key used in the workspace; the same key in another workspace is fine", async () => {
      await run(
        Effect.gen(function* () {
          const acme = yield* createTenant();
          const globex = yield* createTenant();
          const deployments = yield* DeploymentRepository;
          const first = yield* createDeployment(acme, { idempotencyKey: "k" });
          const again = makeDeployment(acme, { idempotencyKey: "k" });
          const error = yield* Effect.flip(deployments.create(again));
          expect(error).toBeInstanceOf(IdempotencyKeyTaken);
          expect(error).toMatchObject({ _tag: "IdempotencyKeyTaken", idempotencyKey: "k" });
          expect(yield* deployments.findById(acme.workspace.id, again.id)).toStrictEqual(
            Option.none(),
          );
          // Another project of the same workspace shares the workspace's keys.
          const sibling = yield* createTenant(acme.workspace);
          expect(
            yield* Effect.flip(
              deployments.create(makeDeployment(sibling, { idempotencyKey: "k" })),
            ),
          ).toMatchObject({ _tag: "IdempotencyKeyTaken", idempotencyKey: "k" });

          const elsewhere = yield* createDeployment(globex, { idempotencyKey: "k" });
          expect(yield* deployments.findByIdempotencyKey(acme.workspace.id, "k")).toStrictEqual(
            Option.some(first),
          );
          expect(yield* deployments.findByIdempotencyKey(globex.workspace.id, "k")).toStrictEqual(
            Option.some(elsewhere),
          );
          expect(yield* deployments.findByIdempotencyKey(acme.workspace.id, "K")).toStrictEqual(
            Option.none(),
          );
          // Deployments without a key never collide.
          yield* createDeployment(acme);
          yield* createDeployment(acme);
        }),
      );
    });

    it("concurrent creates with the same key: exactly one is stored, the others get IdempotencyKeyTaken", async () => {
      const tenant = await run(createTenant());
      await run(setVariables(tenant.production.id, { A: plain("1"), B: secret("k", "c") }));
      const candidates = Array.from({ length: 5 }, () =>
        makeDeployment(tenant, { idempotencyKey: "race" }),
      );
      const results = await run(
        Effect.flatMap(DeploymentRepository, (deployments) =>
          Effect.forEach(candidates, (d) => Effect.either(deployments.create(d)), {
            concurrency: "unbounded",
          }),
        ),
      );
      const winners = results.filter(Either.isRight).map((r) => r.right);
      const losers = results.filter(Either.isLeft).map((r) => r.left);
      expect(winners).toHaveLength(1);
      expect(losers).toHaveLength(candidates.length - 1);
      for (const loser of losers)
        expect(loser).toMatchObject({ _tag: "IdempotencyKeyTaken", idempotencyKey: "race" });
      const rows = await prisma().deployment.findMany({
        where: { id: { in: candidates.map((d) => d.id) } },
        select: { id: true },
      });
      expect(rows).toStrictEqual([{ id: winners[0]?.id }]);
      await run(
        Effect.gen(function* () {
          const deployments = yield* DeploymentRepository;
          expect(
            yield* deployments.findByIdempotencyKey(tenant.workspace.id, "race"),
          ).toStrictEqual(Option.some(winners[0]));
          expect(yield* deployments.snapshot(winners[0]?.id as DeploymentId)).toStrictEqual([
            { _tag: "Plain", key: "A", value: "1" },
            { _tag: "Secret", key: "B", sealed: { keyId: "k", ciphertext: "c" } },
          ]);
        }),
      );
    });

    it("releaseIdempotencyKey frees the key for a retry", async () => {
      await run(
        Effect.gen(function* () {
          const tenant = yield* createTenant();
          const deployments = yield* DeploymentRepository;
          const kept = yield* createDeployment(tenant, { idempotencyKey: "kept" });
          const released = yield* createDeployment(tenant, { idempotencyKey: "retry" });

          // A status change without the flag keeps the key.
          yield* deployments.updateStatus(kept.id, {
            from: ["PENDING"],
            to: "FAILED",
            at: NOW + 1,
          });
          expect(
            Option.map(
              yield* deployments.findByIdempotencyKey(tenant.workspace.id, "kept"),
              (d) => d.id,
            ),
          ).toStrictEqual(Option.some(kept.id));

          const failed = yield* deployments.updateStatus(released.id, {
            from: ["PENDING"],
            to: "FAILED",
            at: NOW + 2,
            errorMessage: "could not start the deploy workflow",
            releaseIdempotencyKey: true,
          });
          const { idempotencyKey: _released, ...withoutKey } = released;
          expect(failed).toStrictEqual(
            Option.some({
              ...withoutKey,
              status: "FAILED",
              updatedAt: NOW + 2,
              errorMessage: "could not start the deploy workflow",
            }),
          );
          expect(
            yield* deployments.findByIdempotencyKey(tenant.workspace.id, "retry"),
          ).toStrictEqual(Option.none());
          const retry = yield* createDeployment(tenant, { idempotencyKey: "retry" });
          expect(
            yield* deployments.findByIdempotencyKey(tenant.workspace.id, "retry"),
          ).toStrictEqual(Option.some(retry));
        }),
      );
    });
  });

  describe("list", () => {
    it("filters by environment, statuses and branch, newest first, by page", async () => {
      await run(
        Effect.gen(function* () {
          const tenant = yield* createTenant();
          const d1 = yield* createDeployment(tenant);
          const d2 = yield* createDeployment(tenant, {
            environmentId: tenant.preview.id,
            environmentSlug: "preview",
            status: "BUILDING",
          });
          const d3 = yield* createDeployment(tenant, {
            status: "READY",
            gitCommit: { commitSha: "abc1234", branch: "feature/login" },
          });
          // Another project of the workspace, and another workspace: never listed here.
          const sibling = yield* createTenant(tenant.workspace);
          yield* createDeployment(sibling);
          const stranger = yield* createTenant();
          yield* createDeployment(stranger);
          const d4 = yield* createDeployment(tenant, { status: "FAILED" });

          const deployments = yield* DeploymentRepository;
          const base = { workspaceId: tenant.workspace.id, projectId: tenant.project.id };
          const ids = (query: Partial<Parameters<typeof deployments.list>[0]>) =>
            Effect.map(deployments.list({ ...base, limit: 100, ...query }), (list) =>
              list.map((d) => d.id),
            );
          expect(yield* deployments.list({ ...base, limit: 100 })).toStrictEqual([d4, d3, d2, d1]);
          expect(yield* ids({ environmentId: tenant.production.id })).toStrictEqual([
            d4.id,
            d3.id,
            d1.id,
          ]);
          expect(yield* ids({ statuses: ["READY", "FAILED"] })).toStrictEqual([d4.id, d3.id]);
          expect(yield* ids({ statuses: [] })).toStrictEqual([d4.id, d3.id, d2.id, d1.id]);
          expect(
            yield* ids({ environmentId: tenant.preview.id, statuses: ["BUILDING", "PENDING"] }),
          ).toStrictEqual([d2.id]);
          expect(yield* ids({ statuses: ["CANCELLED"] })).toStrictEqual([]);
          expect(yield* ids({ branch: "feature/login" })).toStrictEqual([d3.id]);
          expect(yield* ids({ branch: "feature" })).toStrictEqual([]);
          expect(yield* ids({ limit: 2 })).toStrictEqual([d4.id, d3.id]);
          expect(yield* ids({ limit: 2, beforeId: d3.id })).toStrictEqual([d2.id, d1.id]);
          expect(yield* ids({ limit: 1, beforeId: d3.id })).toStrictEqual([d2.id]);
          expect(
            yield* ids({
              beforeId: d4.id,
              environmentId: tenant.production.id,
              statuses: ["PENDING"],
            }),
          ).toStrictEqual([d1.id]);
          expect(yield* ids({ beforeId: d1.id })).toStrictEqual([]);
          // The project in another workspace's name: nothing.
          expect(yield* ids({ workspaceId: stranger.workspace.id })).toStrictEqual([]);
        }),
      );
    });
  });

  describe("status changes", () => {
    it("updateStatus is a compare-and-set: a status not in `from` changes nothing", async () => {
      await run(
        Effect.gen(function* () {
          const tenant = yield* createTenant();
          const deployments = yield* DeploymentRepository;
          const d = yield* createDeployment(tenant);
          expect(
            yield* deployments.updateStatus(d.id, {
              from: ["BUILDING", "DEPLOYING"],
              to: "FAILED",
              at: NOW + 1,
              errorMessage: "nope",
              image: "nope",
              releaseIdempotencyKey: true,
            }),
          ).toStrictEqual(Option.none());
          expect(yield* deployments.findById(tenant.workspace.id, d.id)).toStrictEqual(
            Option.some(d),
          );
          expect(
            yield* deployments.updateStatus(newId("deployment"), {
              from: ["PENDING"],
              to: "BUILDING",
              at: NOW,
            }),
          ).toStrictEqual(Option.none());
          expect(
            yield* deployments.updateStatus(d.id, { from: [], to: "BUILDING", at: NOW }),
          ).toStrictEqual(Option.none());

          const deploying = yield* deployments.updateStatus(d.id, {
            from: ["PENDING", "BUILDING"],
            to: "DEPLOYING",
            at: NOW + 2,
            image: "localhost/web:built",
          });
          const expected: Deployment = {
            ...d,
            status: "DEPLOYING",
            updatedAt: NOW + 2,
            image: "localhost/web:built",
          };
          expect(deploying).toStrictEqual(Option.some(expected));
          const failed = yield* deployments.updateStatus(d.id, {
            from: ["DEPLOYING"],
            to: "FAILED",
            at: NOW + 3,
            errorMessage: "health check timed out ⏱",
          });
          expect(failed).toStrictEqual(
            Option.some({
              ...expected,
              status: "FAILED",
              updatedAt: NOW + 3,
              errorMessage: "health check timed out ⏱",
            }),
          );
          expect(yield* deployments.findById(tenant.workspace.id, d.id)).toStrictEqual(failed);
        }),
      );
    });

    it("concurrent compare-and-sets from the same status: exactly one wins", async () => {
      const tenant = await run(createTenant());
      const d = await run(createDeployment(tenant));
      const targets: Array<DeploymentStatus> = ["BUILDING", "CANCELLED", "SUPERSEDED", "FAILED"];
      const results = await run(
        Effect.flatMap(DeploymentRepository, (deployments) =>
          Effect.forEach(
            targets,
            (to) => deployments.updateStatus(d.id, { from: ["PENDING"], to, at: NOW + 1 }),
            { concurrency: "unbounded" },
          ),
        ),
      );
      const won = results.filter(Option.isSome).map((r) => r.value.status);
      expect(won).toHaveLength(1);
      const row = await prisma().deployment.findUniqueOrThrow({ where: { id: d.id } });
      expect(row.status).toBe(won[0]);
    });

    it("setInvocationId records the Restate invocation and changes nothing else", async () => {
      await run(
        Effect.gen(function* () {
          const tenant = yield* createTenant();
          const deployments = yield* DeploymentRepository;
          const d = yield* createDeployment(tenant);
          yield* deployments.setInvocationId(d.id, "inv_1kq2");
          expect(yield* deployments.findById(tenant.workspace.id, d.id)).toStrictEqual(
            Option.some({ ...d, restateInvocationId: "inv_1kq2" }),
          );
          yield* deployments.setInvocationId(d.id, "inv_2");
          expect(yield* deployments.findById(tenant.workspace.id, d.id)).toStrictEqual(
            Option.some({ ...d, restateInvocationId: "inv_2" }),
          );
          // An unknown deployment: nothing to do, no error.
          yield* deployments.setInvocationId(newId("deployment"), "inv_3");
        }),
      );
    });

    it("supersedeOlderPending: only older PENDING deployments of the same project, environment and branch", async () => {
      await run(
        Effect.gen(function* () {
          const tenant = yield* createTenant();
          const main = { gitCommit: { branch: "main" } };
          const deployments = yield* DeploymentRepository;
          // Stored in the opposite order of their ids: the result is still oldest (lowest id) first.
          const old1 = makeDeployment(tenant, main);
          const old2 = makeDeployment(tenant, main);
          yield* deployments.create(old2);
          yield* deployments.create(old1);
          const building = yield* createDeployment(tenant, { ...main, status: "BUILDING" });
          const otherBranch = yield* createDeployment(tenant, { gitCommit: { branch: "dev" } });
          const noBranch = yield* createDeployment(tenant);
          const shaOnly = yield* createDeployment(tenant, { gitCommit: { commitSha: "abc" } });
          const preview = yield* createDeployment(tenant, {
            ...main,
            environmentId: tenant.preview.id,
            environmentSlug: "preview",
          });
          const sibling = yield* createTenant(tenant.workspace);
          const siblingMain = yield* createDeployment(sibling, main);
          const newest = yield* createDeployment(tenant, main);
          const later = yield* createDeployment(tenant, main);

          const superseded = yield* deployments.supersedeOlderPending({
            projectId: tenant.project.id,
            environmentId: tenant.production.id,
            branch: "main",
            newerThan: newest.id,
            at: NOW + 99,
          });
          expect(superseded).toStrictEqual([old1.id, old2.id]);
          expect(
            yield* statusesOf(tenant, [
              old1,
              old2,
              building,
              otherBranch,
              noBranch,
              shaOnly,
              preview,
              newest,
              later,
            ]),
          ).toStrictEqual(
            [
              "SUPERSEDED",
              "SUPERSEDED",
              "BUILDING",
              "PENDING",
              "PENDING",
              "PENDING",
              "PENDING",
              "PENDING",
              "PENDING",
            ].map(Option.some),
          );
          expect(yield* deployments.findById(tenant.workspace.id, old1.id)).toStrictEqual(
            Option.some({ ...old1, status: "SUPERSEDED", updatedAt: NOW + 99 }),
          );
          expect(yield* statusesOf(sibling, [siblingMain])).toStrictEqual([Option.some("PENDING")]);

          // No branch matches no branch only (a commit without a branch has none).
          expect(
            yield* deployments.supersedeOlderPending({
              projectId: tenant.project.id,
              environmentId: tenant.production.id,
              branch: undefined,
              newerThan: later.id,
              at: NOW + 100,
            }),
          ).toStrictEqual([noBranch.id, shaOnly.id]);
          // Nothing left to supersede: a second call is a no-op.
          expect(
            yield* deployments.supersedeOlderPending({
              projectId: tenant.project.id,
              environmentId: tenant.production.id,
              branch: "main",
              newerThan: newest.id,
              at: NOW + 101,
            }),
          ).toStrictEqual([]);
          expect(yield* deployments.findById(tenant.workspace.id, old1.id)).toStrictEqual(
            Option.some({ ...old1, status: "SUPERSEDED", updatedAt: NOW + 99 }),
          );
        }),
      );
    });
  });

  describe("steps", () => {
    it("startStep records a step once, finishStep ends only a RUNNING step, listSteps in start order", async () => {
      await run(
        Effect.gen(function* () {
          const tenant = yield* createTenant();
          const deployments = yield* DeploymentRepository;
          const d = yield* createDeployment(tenant);
          const other = yield* createDeployment(tenant);
          const building = newId("step");
          const network = newId("step");
          yield* deployments.startStep({
            id: network,
            deploymentId: d.id,
            name: "NETWORK",
            at: 20,
          });
          yield* deployments.startStep({
            id: building,
            deploymentId: d.id,
            name: "BUILDING",
            at: 10,
          });
          yield* deployments.startStep({
            id: newId("step"),
            deploymentId: d.id,
            name: "BUILDING",
            at: 30,
          });
          yield* deployments.startStep({
            id: newId("step"),
            deploymentId: other.id,
            name: "BUILDING",
            at: 5,
          });
          // Finishing a step that never started records nothing.
          yield* deployments.finishStep({
            deploymentId: d.id,
            name: "DEPLOYING",
            status: "SUCCEEDED",
            at: 35,
          });
          yield* deployments.finishStep({
            deploymentId: d.id,
            name: "BUILDING",
            status: "FAILED",
            at: 40,
            message: "exit 1: ✗ no space left",
          });
          // Ending an ended step, or starting it again, changes nothing.
          yield* deployments.finishStep({
            deploymentId: d.id,
            name: "BUILDING",
            status: "SUCCEEDED",
            at: 50,
            message: "late",
          });
          yield* deployments.startStep({
            id: newId("step"),
            deploymentId: d.id,
            name: "BUILDING",
            at: 60,
          });
          expect(yield* deployments.listSteps(d.id)).toStrictEqual([
            {
              id: building,
              deploymentId: d.id,
              name: "BUILDING",
              status: "FAILED",
              startedAt: 10,
              endedAt: 40,
              message: "exit 1: ✗ no space left",
            },
            { id: network, deploymentId: d.id, name: "NETWORK", status: "RUNNING", startedAt: 20 },
          ]);
          yield* deployments.finishStep({
            deploymentId: d.id,
            name: "NETWORK",
            status: "CANCELLED",
            at: 70,
          });
          expect(yield* deployments.listSteps(d.id)).toStrictEqual([
            {
              id: building,
              deploymentId: d.id,
              name: "BUILDING",
              status: "FAILED",
              startedAt: 10,
              endedAt: 40,
              message: "exit 1: ✗ no space left",
            },
            {
              id: network,
              deploymentId: d.id,
              name: "NETWORK",
              status: "CANCELLED",
              startedAt: 20,
              endedAt: 70,
            },
          ]);
          expect(
            (yield* deployments.listSteps(other.id)).map((s) => [s.name, s.status]),
          ).toStrictEqual([["BUILDING", "RUNNING"]]);
          expect(yield* deployments.listSteps(newId("deployment"))).toStrictEqual([]);
        }),
      );
    });

    it("steps started at the same time are ordered by id; concurrent starts make one row", async () => {
      await run(
        Effect.gen(function* () {
          const tenant = yield* createTenant();
          const deployments = yield* DeploymentRepository;
          const d = yield* createDeployment(tenant);
          const first = newId("step");
          const second = newId("step");
          yield* deployments.startStep({ id: second, deploymentId: d.id, name: "READY", at: 100 });
          yield* deployments.startStep({
            id: first,
            deploymentId: d.id,
            name: "DEPLOYING",
            at: 100,
          });
          const racers = Array.from({ length: 4 }, () => newId("step"));
          yield* Effect.forEach(
            racers,
            (id) => deployments.startStep({ id, deploymentId: d.id, name: "NETWORK", at: 200 }),
            { concurrency: "unbounded" },
          );
          const steps = yield* deployments.listSteps(d.id);
          expect(
            steps.map((s) => [s.id === first || s.id === second ? s.id : "racer", s.name]),
          ).toStrictEqual([
            [first, "DEPLOYING"],
            [second, "READY"],
            ["racer", "NETWORK"],
          ]);
          expect(racers).toContain(steps[2]?.id);
        }),
      );
    });
  });

  it("deployments belong to their project: another project's deployment keeps its own data", async () => {
    // The listing and supersede tests above rely on this; check the project id is stored as given.
    const tenant = await run(createTenant());
    const other = makeProject(tenant.workspace);
    const d = await run(createDeployment(tenant));
    const row = await prisma().deployment.findUniqueOrThrow({ where: { id: d.id } });
    expect([row.workspaceId, row.projectId, row.environmentId]).toStrictEqual([
      tenant.workspace.id,
      tenant.project.id,
      tenant.production.id,
    ]);
    expect(row.projectId).not.toBe(other.id);
  });
});
