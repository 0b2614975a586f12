/**
 * Carries out one batch entry through the API and says what happened. Never throws: every
 * failure becomes a `failed` outcome with the server's (or the CLI's) message.
 *
 * A re-run must not repeat what an earlier run completed (docs/decisions/0019-batch.md):
 * - deploy: the environment and regions are checked first (nothing is uploaded for a request
 *   the server would refuse); a directory is packed (its key includes the packed content's
 *   digest, keys.ts); then the key is looked up (the deployment the previous report names,
 *   else the project environment's deployments); if a deployment has it, nothing is uploaded
 *   or created: the entry is `skipped` and that deployment is followed to its end. Otherwise
 *   CreateDeployment carries the key, so a retried call cannot create two.
 * - promote, rollback, cancel: skipped when the previous report records the same key as done;
 *   else promote and rollback are skipped when the project is already in the asked-for state,
 *   and otherwise sent with the key (within Restate's 24 hours a repeat of the key answers the
 *   first call and changes nothing). Past those 24 hours the report is the only record that a
 *   promote or rollback ran: commands/batch.ts refuses a report it cannot read, warns when
 *   there is none, and rewrites it after every entry. A rollback without a target reuses the
 *   target the previous report recorded for the key (the same request), else the default.
 * - cancel: CancelDeployment is idempotent; an already cancelled deployment is `skipped`.
 */
import { type Deployment, DeploymentStatus } from "@ferry/api";
import { type Api, describeApiError, getDeployment } from "../api.ts";
import { followDeployment } from "../deploy/follow.ts";
import { gitCommitInfo, readGitMetadata } from "../deploy/git.ts";
import { packDirectory } from "../deploy/pack.ts";
import { checkDeployTarget } from "../deploy/target.ts";
import { uploadContext } from "../deploy/upload.ts";
import { defaultRollbackTarget } from "../rollback-target.ts";
import { isTerminal, statusName, statusWithMessage } from "../status.ts";
import { contentKey } from "./keys.ts";
import type { DeploymentRef, Entry, Operation } from "./model.ts";
import { type EntryOutcome, isSuccess, outcomeOf, type ResolvedRequest } from "./outcome.ts";
import type { EntryPlan } from "./plan.ts";

export interface ExecutionContext {
  readonly api: Api;
  /** Aborting stops waiting for deployments; they go on on the server. */
  readonly signal: AbortSignal;
  /** Outcomes of the entries finished so far, by name (for `@name`). */
  readonly finished: ReadonlyMap<string, EntryOutcome>;
  /** What the previous report of this file recorded, by idempotency key. */
  readonly previous: ReadonlyMap<string, EntryOutcome>;
  readonly now: () => number;
  /** Something the user should know that does not fail the entry (stderr). */
  readonly warn: (entry: Entry, message: string) => void;
}

type Fields = Parameters<typeof outcomeOf>[1];

/** Not run because an entry it names did not succeed. */
class Blocked extends Error {}

const messageOf = (error: unknown, apiUrl: string) => describeApiError(error, apiUrl).message;

/** The deployment an `@name` or an id stands for. */
const deploymentIdOf = (ref: DeploymentRef, context: ExecutionContext): string => {
  if (ref.kind === "id") return ref.id;
  const outcome = context.finished.get(ref.name);
  if (outcome === undefined || !isSuccess(outcome.result) || outcome.deploymentId === "")
    throw new Blocked(
      `"${ref.name}" did not end READY${outcome === undefined ? "" : ` (${outcome.result})`}`,
    );
  return outcome.deploymentId;
};

/** The deployment created with this idempotency key, if there is one. */
const findByKey = async (
  context: ExecutionContext,
  projectId: string,
  environmentSlug: string,
  key: string,
): Promise<Deployment | undefined> => {
  const recorded = context.previous.get(key)?.deploymentId;
  if (recorded !== undefined && recorded !== "") {
    const deployment = await getDeployment(context.api, recorded).catch(() => undefined);
    if (deployment?.idempotencyKey === key) return deployment;
  }
  let pageToken = "";
  do {
    const page = await context.api.deployments.listDeployments({
      projectId,
      environmentSlug,
      pageSize: 200,
      pageToken,
    });
    const found = page.deployments.find((deployment) => deployment.idempotencyKey === key);
    if (found !== undefined) return found;
    pageToken = page.nextPageToken;
  } while (pageToken !== "");
  return undefined;
};

const deploy = async (
  entry: Entry,
  operation: Extract<Operation, { op: "deploy" }>,
  projectId: string,
  context: ExecutionContext,
): Promise<Fields> => {
  const { api } = context;
  const { project } = await api.projects.getProject({
    key: { case: "projectId", value: projectId },
  });
  if (project === undefined) throw new Error(`GetProject returned no project ${projectId}`);
  // Before anything is packed or uploaded: a refused request must not leave an upload behind.
  await checkDeployTarget(api, project, operation.env, operation.regions);
  const source = operation.source;
  // A directory's key includes the digest of what would be deployed: it is packed first (on
  // this machine, cheap), and an unchanged directory is found by its key and not uploaded.
  const packed =
    source.kind === "dir"
      ? await packDirectory(source.absoluteDir, { dockerfile: source.dockerfile })
      : undefined;
  const key =
    packed === undefined ? entry.idempotencyKey : contentKey(entry.idempotencyKey, packed.digest);
  let existing: Deployment | undefined;
  let deploymentId: string;
  try {
    existing = await findByKey(context, projectId, operation.env, key);
    if (existing !== undefined) deploymentId = existing.id;
    else if (source.kind === "image") {
      const created = await api.deployments.createDeployment({
        projectId,
        environmentSlug: operation.env,
        source: { case: "dockerImage", value: source.image },
        regions: [...operation.regions],
        idempotencyKey: key,
      });
      deploymentId = created.deploymentId;
    } else {
      if (packed === undefined) throw new Error("a directory entry was not packed");
      const git = await readGitMetadata(source.absoluteDir);
      const buildContextPath = await uploadContext(api, projectId, packed);
      const created = await api.deployments.createDeployment({
        projectId,
        environmentSlug: operation.env,
        source: {
          case: "buildContext",
          value: { buildContextPath, dockerfilePath: packed.dockerfile },
        },
        regions: [...operation.regions],
        idempotencyKey: key,
        ...(git === undefined
          ? {}
          : {
              gitCommit: gitCommitInfo(git, context.now(), (message) =>
                context.warn(entry, message),
              ),
            }),
      });
      deploymentId = created.deploymentId;
    }
  } finally {
    packed?.remove();
  }
  let final: Deployment;
  try {
    final =
      existing !== undefined && isTerminal(existing.status)
        ? existing
        : await followDeployment(api, deploymentId, () => undefined, {
            excludeLogs: true,
            signal: context.signal,
          });
  } catch (error) {
    if (!context.signal.aborted) throw error;
    return {
      result: "failed",
      idempotencyKey: key,
      deploymentId,
      message: `interrupted while waiting; the deployment goes on (ferry watch ${deploymentId}), and running the file again picks it up`,
    };
  }
  const ready = final.status === DeploymentStatus.READY;
  const earlier = existing === undefined ? "" : "an earlier run created it; ";
  return {
    result: ready ? (existing === undefined ? "succeeded" : "skipped") : "failed",
    idempotencyKey: key,
    deploymentId,
    status: statusName(final.status),
    message: ready
      ? existing === undefined
        ? ""
        : "already done: an earlier run deployed it"
      : `${earlier}${statusWithMessage(final.status, final.errorMessage)}${existing === undefined ? "" : `; to deploy again, rename the entry or change the file's "run"`}`,
  };
};

const promote = async (
  entry: Entry,
  operation: Extract<Operation, { op: "promote" }>,
  context: ExecutionContext,
): Promise<Fields> => {
  const targetId = deploymentIdOf(operation.deployment, context);
  const request: ResolvedRequest = { targetDeploymentId: targetId };
  const target = await getDeployment(context.api, targetId);
  const { project } = await context.api.projects.getProject({
    key: { case: "projectId", value: target.projectId },
  });
  const fields = { deploymentId: targetId, status: statusName(target.status), request };
  if (project?.liveDeploymentId === targetId && !project.rolledBack)
    return { ...fields, result: "skipped", message: "already done: it is the live deployment" };
  const response = await context.api.deployments.promote({
    targetDeploymentId: targetId,
    idempotencyKey: entry.idempotencyKey,
  });
  return {
    ...fields,
    result: "succeeded",
    message:
      response.previousLiveDeploymentId === "" ||
      response.previousLiveDeploymentId === response.liveDeploymentId
        ? "live; rollback pin cleared"
        : `live (was ${response.previousLiveDeploymentId})`,
  };
};

const rollback = async (
  entry: Entry,
  operation: Extract<Operation, { op: "rollback" }>,
  projectId: string,
  context: ExecutionContext,
): Promise<Fields> => {
  // Read now, not when the run was planned: earlier entries may have moved production.
  const { project } = await context.api.projects.getProject({
    key: { case: "projectId", value: projectId },
  });
  if (project === undefined) throw new Error(`GetProject returned no project ${projectId}`);
  const recorded = context.previous.get(entry.idempotencyKey)?.request;
  const sourceId =
    operation.from !== undefined
      ? deploymentIdOf(operation.from, context)
      : project.liveDeploymentId;
  const targetId =
    operation.target !== undefined
      ? deploymentIdOf(operation.target, context)
      : (recorded?.targetDeploymentId ?? (await defaultRollbackTarget(context.api, project.id)).id);
  const request: ResolvedRequest = { targetDeploymentId: targetId, sourceDeploymentId: sourceId };
  if (project.liveDeploymentId === targetId && project.rolledBack)
    return {
      result: "skipped",
      deploymentId: targetId,
      request: recorded ?? request,
      message: "already done: production is rolled back to it",
    };
  if (sourceId === "")
    return {
      result: "failed",
      request,
      message: `project ${project.slug} has no live deployment to roll back from`,
    };
  const response = await context.api.deployments.rollback({
    sourceDeploymentId: sourceId,
    targetDeploymentId: targetId,
    idempotencyKey: entry.idempotencyKey,
  });
  // The key answered an earlier call of this entry (made with another default target).
  if (response.liveDeploymentId !== targetId)
    return {
      result: "skipped",
      deploymentId: response.liveDeploymentId,
      request,
      message: "already done: an earlier run rolled back (same idempotency key)",
    };
  return {
    result: response.changed ? "succeeded" : "skipped",
    deploymentId: targetId,
    request,
    message: response.changed
      ? `live (was ${response.previousLiveDeploymentId}); production is pinned until a promote`
      : "already done: production is rolled back to it",
  };
};

const cancel = async (
  operation: Extract<Operation, { op: "cancel" }>,
  context: ExecutionContext,
): Promise<Fields> => {
  const response = await context.api.deployments.cancelDeployment({
    deploymentId: operation.deployment,
  });
  return {
    result: response.changed ? "succeeded" : "skipped",
    deploymentId: operation.deployment,
    status: statusName(response.status),
    message: response.changed ? "" : "already done: it was cancelled before",
  };
};

export const executeEntry = async (
  entry: Entry,
  plan: EntryPlan | undefined,
  context: ExecutionContext,
): Promise<EntryOutcome> => {
  const startedAt = context.now();
  const operation = entry.operation;
  const project =
    plan?.kind === "project"
      ? plan.projectSlug
      : operation.op === "deploy" || operation.op === "rollback"
        ? operation.project
        : "";
  const done = (fields: Fields) =>
    outcomeOf(entry, {
      project,
      projectId: plan?.kind === "project" ? plan.projectId : "",
      durationMs: context.now() - startedAt,
      ...fields,
    });
  try {
    if (context.signal.aborted)
      return done({ result: "not-run", message: "the run was interrupted before it started" });
    // A traffic change or cancel the previous report records as done is not sent again: a
    // replay of its key would look like a new success, and the state may have moved on since.
    const earlier = context.previous.get(entry.idempotencyKey);
    if (operation.op !== "deploy" && earlier !== undefined && isSuccess(earlier.result))
      return done({
        result: "skipped",
        deploymentId: earlier.deploymentId,
        status: earlier.status,
        request: earlier.request,
        message: `already done: the previous report records it as ${earlier.result}`,
      });
    if (operation.op === "promote" && operation.deployment.kind === "entry")
      deploymentIdOf(operation.deployment, context); // a failed dependency blocks before lookups
    if (plan === undefined || plan.kind === "unresolved")
      return done({
        result: "failed",
        message: messageOf(plan?.error ?? new Error("not planned"), context.api.apiUrl),
      });
    switch (operation.op) {
      case "deploy":
        return done(await deploy(entry, operation, plan.projectId, context));
      case "promote":
        return done(await promote(entry, operation, context));
      case "rollback":
        return done(await rollback(entry, operation, plan.projectId, context));
      case "cancel":
        return done(await cancel(operation, context));
    }
  } catch (error) {
    if (error instanceof Blocked)
      return done({ result: "not-run", message: `not run: ${error.message}` });
    if (context.signal.aborted)
      return done({
        result: "failed",
        message:
          "interrupted while waiting; a deployment it started goes on on the server, and running the file again picks it up",
      });
    return done({ result: "failed", message: messageOf(error, context.api.apiUrl) });
  }
};
