/** DeploymentRepository on Prisma. */
import {
  byStepOrder,
  type Deployment,
  type DeploymentId,
  DeploymentRepository,
  type DeploymentSource,
  type DeploymentStep,
  type EnvironmentId,
  type GitCommit,
  IdempotencyKeyTaken,
  type ProjectId,
  type SnapshotVariable,
  type StepId,
  type StepName,
  type WorkspaceId,
} from "@ferry/domain";
import { Effect, Layer, Option } from "effect";
import type { Prisma, DeploymentStep as StepRow } from "../generated/prisma/client.ts";
import { appendEvents, isLiveIn } from "./event-rows.ts";
import {
  Db,
  INTERACTIVE_TRANSACTION,
  optionalMillis,
  optionalRow,
  present,
  query,
  queryUnique,
  toDate,
  toMillis,
} from "./prisma.ts";
import { toVariableValue } from "./variables.ts";

/** Every deployment read carries its environment's slug. */
const withEnvironment = { environment: { select: { slug: true } } } as const;
type DeploymentRow = Prisma.DeploymentGetPayload<{ include: typeof withEnvironment }>;

const toSource = (row: DeploymentRow): DeploymentSource =>
  row.sourceKind === "DOCKER_IMAGE"
    ? { _tag: "DockerImage", image: row.dockerImage ?? "" }
    : {
        _tag: "BuildContext",
        buildContextPath: row.buildContextPath ?? "",
        dockerfilePath: row.dockerfilePath ?? "Dockerfile",
      };

const toGitCommit = (row: DeploymentRow): GitCommit | undefined => {
  const commit: GitCommit = {
    ...present("commitSha", row.gitCommitSha),
    ...present("branch", row.gitBranch),
    ...present("commitMessage", row.gitCommitMessage),
    ...present("authorHandle", row.gitAuthorHandle),
    ...present("authorAvatarUrl", row.gitAuthorAvatarUrl),
    ...present(
      "timestamp",
      row.gitCommitTimestamp === null ? null : Number(row.gitCommitTimestamp),
    ),
  };
  return Object.keys(commit).length === 0 ? undefined : commit;
};

export const toDeployment = (row: DeploymentRow): Deployment => ({
  id: row.id as DeploymentId,
  workspaceId: row.workspaceId as WorkspaceId,
  projectId: row.projectId as ProjectId,
  environmentId: row.environmentId as EnvironmentId,
  environmentSlug: row.environment.slug,
  status: row.status,
  source: toSource(row),
  ...present("gitCommit", toGitCommit(row)),
  regions: row.regions,
  ...present("image", row.image),
  ...present("idempotencyKey", row.idempotencyKey),
  ...present("restateInvocationId", row.restateInvocationId),
  ...present("errorMessage", row.errorMessage),
  createdAt: toMillis(row.createdAt),
  updatedAt: toMillis(row.updatedAt),
});

const toStep = (row: StepRow): DeploymentStep => ({
  id: row.id as StepId,
  deploymentId: row.deploymentId as DeploymentId,
  name: row.name as StepName,
  status: row.status,
  startedAt: toMillis(row.startedAt),
  ...present("endedAt", optionalMillis(row.endedAt)),
  ...present("message", row.message),
});

/** The event of a step change: the step as it is after the change. */
const stepEvent = (row: StepRow, at: number) => ({
  at,
  body: { _tag: "Step" as const, step: toStep(row) },
});

const isSnapshot = (value: unknown): value is ReadonlyArray<SnapshotVariable> =>
  Array.isArray(value) &&
  value.every(
    (item) =>
      typeof item === "object" &&
      item !== null &&
      (item._tag === "Plain" || item._tag === "Secret") &&
      typeof item.key === "string",
  );

export const DeploymentRepositoryLive = Layer.effect(
  DeploymentRepository,
  Effect.map(Db, (db) => {
    const findById = (id: string) =>
      query(() => db.deployment.findUnique({ where: { id }, include: withEnvironment })).pipe(
        Effect.map(optionalRow(toDeployment)),
      );
    return {
      create: (deployment) =>
        queryUnique(
          () =>
            db.$transaction(async (tx) => {
              // Read the variables in the same transaction as the insert: the snapshot is exactly
              // the environment as it was when the deployment was accepted.
              const variables = await tx.environmentVariable.findMany({
                where: { environmentId: deployment.environmentId },
                orderBy: { key: "asc" },
              });
              const snapshot: Array<SnapshotVariable> = variables.map((row) => {
                const value = toVariableValue(row);
                return value._tag === "Plain"
                  ? { _tag: "Plain", key: row.key, value: value.value }
                  : { _tag: "Secret", key: row.key, sealed: value.sealed };
              });
              const git = deployment.gitCommit;
              const created = await tx.deployment.create({
                include: withEnvironment,
                data: {
                  id: deployment.id,
                  workspaceId: deployment.workspaceId,
                  projectId: deployment.projectId,
                  environmentId: deployment.environmentId,
                  status: deployment.status,
                  sourceKind:
                    deployment.source._tag === "DockerImage" ? "DOCKER_IMAGE" : "BUILD_CONTEXT",
                  dockerImage:
                    deployment.source._tag === "DockerImage" ? deployment.source.image : null,
                  buildContextPath:
                    deployment.source._tag === "BuildContext"
                      ? deployment.source.buildContextPath
                      : null,
                  dockerfilePath:
                    deployment.source._tag === "BuildContext"
                      ? deployment.source.dockerfilePath
                      : null,
                  image: deployment.image ?? null,
                  gitCommitSha: git?.commitSha ?? null,
                  gitBranch: git?.branch ?? null,
                  gitCommitMessage: git?.commitMessage ?? null,
                  gitAuthorHandle: git?.authorHandle ?? null,
                  gitAuthorAvatarUrl: git?.authorAvatarUrl ?? null,
                  gitCommitTimestamp: git?.timestamp === undefined ? null : BigInt(git.timestamp),
                  regions: [...deployment.regions],
                  envSnapshot: snapshot,
                  idempotencyKey: deployment.idempotencyKey ?? null,
                  restateInvocationId: deployment.restateInvocationId ?? null,
                  errorMessage: deployment.errorMessage ?? null,
                  createdAt: toDate(deployment.createdAt),
                  updatedAt: toDate(deployment.updatedAt),
                },
              });
              // The first event of every deployment: its status when accepted (PENDING).
              await appendEvents(tx, deployment.id, [
                {
                  at: deployment.createdAt,
                  body: { _tag: "Status", status: deployment.status, isLive: false },
                },
              ]);
              return created;
            }, INTERACTIVE_TRANSACTION),
          () => new IdempotencyKeyTaken({ idempotencyKey: deployment.idempotencyKey ?? "" }),
        ).pipe(Effect.map(toDeployment)),
      findById: (workspaceId, id) =>
        findById(id).pipe(Effect.map(Option.filter((d) => d.workspaceId === workspaceId))),
      findByIdempotencyKey: (workspaceId, key) =>
        query(() =>
          db.deployment.findUnique({
            where: { workspaceId_idempotencyKey: { workspaceId, idempotencyKey: key } },
            include: withEnvironment,
          }),
        ).pipe(Effect.map(optionalRow(toDeployment))),
      list: (q) =>
        query(() =>
          db.deployment.findMany({
            where: {
              workspaceId: q.workspaceId,
              projectId: q.projectId,
              ...(q.environmentId === undefined ? {} : { environmentId: q.environmentId }),
              ...(q.statuses === undefined || q.statuses.length === 0
                ? {}
                : { status: { in: [...q.statuses] } }),
              ...(q.branch === undefined ? {} : { gitBranch: q.branch }),
              ...(q.beforeId === undefined ? {} : { id: { lt: q.beforeId } }),
            },
            orderBy: { id: "desc" },
            take: q.limit,
            include: withEnvironment,
          }),
        ).pipe(Effect.map((rows) => rows.map(toDeployment))),
      setInvocationId: (id, invocationId) =>
        // Not `updateMany`: Prisma's @updatedAt would stamp updated_at with this process's clock,
        // while every other write takes its time from the caller. Recording the invocation is
        // bookkeeping and leaves updated_at alone.
        query(
          () =>
            db.$executeRaw`UPDATE "deployments" SET "restate_invocation_id" = ${invocationId} WHERE "id" = ${id}`,
        ).pipe(Effect.asVoid),
      updateStatus: (id, change) =>
        Effect.gen(function* () {
          const updated = yield* query(() =>
            db.$transaction(async (tx) => {
              // The row lock first: the compare-and-set, the update and its event see one state.
              const current = (
                await tx.$queryRaw<
                  Array<{
                    status: Deployment["status"];
                    project_id: string;
                    error_message: string | null;
                  }>
                >`SELECT "status"::text AS "status", "project_id", "error_message"
                  FROM "deployments" WHERE "id" = ${id} FOR NO KEY UPDATE`
              )[0];
              if (current === undefined || !change.from.includes(current.status)) return false;
              await tx.deployment.update({
                where: { id },
                data: {
                  status: change.to,
                  updatedAt: toDate(change.at),
                  ...(change.errorMessage === undefined
                    ? {}
                    : { errorMessage: change.errorMessage }),
                  ...(change.image === undefined ? {} : { image: change.image }),
                  ...(change.releaseIdempotencyKey === true ? { idempotencyKey: null } : {}),
                },
              });
              // Only an actual change of status is an event (a repeated call changes nothing).
              if (current.status !== change.to) {
                const errorMessage = change.errorMessage ?? current.error_message;
                await appendEvents(tx, id, [
                  {
                    at: change.at,
                    body: {
                      _tag: "Status",
                      status: change.to,
                      ...(change.to === "FAILED" && errorMessage !== null ? { errorMessage } : {}),
                      isLive: await isLiveIn(tx, current.project_id, id),
                    },
                  },
                ]);
              }
              return true;
            }, INTERACTIVE_TRANSACTION),
          );
          return updated ? yield* findById(id) : Option.none();
        }),
      snapshot: (id) =>
        query(() =>
          db.deployment.findUniqueOrThrow({ where: { id }, select: { envSnapshot: true } }),
        ).pipe(
          Effect.flatMap(({ envSnapshot }) =>
            isSnapshot(envSnapshot)
              ? Effect.succeed(envSnapshot)
              : Effect.die(new Error(`deployment ${id} has a malformed variable snapshot`)),
          ),
        ),
      supersedeOlderPending: (input) =>
        query(() =>
          db.$transaction(async (tx) => {
            const superseded = await tx.deployment.updateManyAndReturn({
              where: {
                projectId: input.projectId,
                environmentId: input.environmentId,
                gitBranch: input.branch ?? null,
                status: "PENDING",
                id: { lt: input.newerThan },
              },
              data: { status: "SUPERSEDED", updatedAt: toDate(input.at) },
              select: { id: true },
            });
            for (const { id } of superseded)
              await appendEvents(tx, id, [
                {
                  at: input.at,
                  body: {
                    _tag: "Status",
                    status: "SUPERSEDED",
                    isLive: await isLiveIn(tx, input.projectId, id),
                  },
                },
              ]);
            return superseded;
          }, INTERACTIVE_TRANSACTION),
        ).pipe(
          // UPDATE ... RETURNING has no order: oldest first, like the in-memory repository.
          Effect.map((rows) => rows.map((row) => row.id as DeploymentId).sort()),
        ),
      listSteps: (id) =>
        query(() =>
          db.deploymentStep.findMany({
            where: { deploymentId: id },
            orderBy: [{ startedAt: "asc" }, { id: "asc" }],
          }),
        ).pipe(Effect.map((rows) => rows.map(toStep).sort(byStepOrder))),
      startStep: (step) =>
        query(() =>
          db.$transaction(async (tx) => {
            const started = await tx.deploymentStep.createManyAndReturn({
              data: [
                {
                  id: step.id,
                  deploymentId: step.deploymentId,
                  name: step.name,
                  status: "RUNNING",
                  startedAt: toDate(step.at),
                },
              ],
              skipDuplicates: true,
            });
            // A second start of the step inserted nothing, and writes no event.
            for (const row of started)
              await appendEvents(tx, step.deploymentId, [stepEvent(row, step.at)]);
          }, INTERACTIVE_TRANSACTION),
        ),
      finishStep: (step) =>
        query(() =>
          db.$transaction(async (tx) => {
            const ended = await tx.deploymentStep.updateManyAndReturn({
              where: { deploymentId: step.deploymentId, name: step.name, status: "RUNNING" },
              data: {
                status: step.status,
                endedAt: toDate(step.at),
                ...(step.message === undefined ? {} : { message: step.message }),
              },
            });
            // Ending an ended step changed nothing, and writes no event.
            for (const row of ended)
              await appendEvents(tx, step.deploymentId, [stepEvent(row, step.at)]);
          }, INTERACTIVE_TRANSACTION),
        ),
    };
  }),
);
