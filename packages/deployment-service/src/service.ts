/**
 * createDeploymentService(config): the API's operations in-process. It opens the database
 * (checking, or with `migrate: true` applying, its migrations), listens for deployment events,
 * finds the workspace it acts for, and composes the same layer ctrl serves (composition.ts).
 * Every operation runs the domain's use case on one ManagedRuntime; a failure rejects with the
 * domain's tagged error (ValidationError, NotFound, AlreadyExists, PreconditionFailed,
 * WorkflowUnavailable), anything unexpected with InternalError.
 *
 * It runs no workflow: deploys, promotes and rollbacks are executed by hydra through Restate,
 * exactly as for ctrl's calls. It serves no upload URL and no route feed.
 */
import {
  type Database,
  describeDatabaseConfig,
  openDatabase,
  startDeploymentEventFeed,
} from "@ferry/db";
import {
  type CancelDeploymentResult,
  type CreateDeploymentResult,
  cancelDeployment,
  createDeployment,
  createEnvironment,
  createProject,
  createUploadUrl,
  type DeploymentEvent,
  type DomainError,
  type Environment,
  getProject,
  listEnvironmentVariables,
  listProjects,
  NotFound,
  type ProjectView,
  resolveProject,
  setEnvironmentVariables,
  updateProjectSettings,
  type VariableView,
  type Workspace,
  WorkspaceId,
  WorkspaceRepository,
} from "@ferry/domain";
import { layer as restateWorkflowEngine } from "@ferry/restate";
import { Cause, Effect, Exit, Layer, Logger, ManagedRuntime, Option, Schema } from "effect";
import { wireBuildStorage } from "./build-storage.ts";
import { type DeploymentServices, liveLayer } from "./composition.ts";
import { checkConfig, DEFAULT_POOL_SIZE, type DeploymentServiceConfig } from "./config.ts";
import { DatabaseSchemaBehind, InternalError, ServiceClosed } from "./errors.ts";
import { effectLogger, stderrSink } from "./logger.ts";
import {
  type DeploymentDetails,
  type DeploymentDetailsPage,
  getDeploymentDetails,
  listDeploymentDetails,
  promoteDeployment,
  rollbackDeployment,
  type TrafficChange,
} from "./operations.ts";
import { pendingMigrations } from "./schema-check.ts";
import {
  type BuildContextBody,
  holdBody,
  storeBuildContext,
  type UploadedBuildContext,
} from "./upload.ts";
import { uploadSigningSecret } from "./upload-signing.ts";
import { watchDeploymentEvents } from "./watch.ts";

/** A deployment's source: a prebuilt image, or an archive stored by uploadBuildContext. */
export type DeploymentSource =
  | { readonly image: string }
  | { readonly buildContextPath: string; readonly dockerfilePath?: string };

export interface CreateDeploymentRequest {
  /** The project's id (`prj_...`). */
  readonly projectId: string;
  /** `production`, `preview`, or another environment of the project. */
  readonly environmentSlug: string;
  readonly source: DeploymentSource;
  /** Optional; validated as the API does (timestamp in Unix ms, sizes in bytes). */
  readonly gitCommit?: {
    readonly commitSha?: string;
    readonly branch?: string;
    readonly commitMessage?: string;
    readonly authorHandle?: string;
    readonly authorAvatarUrl?: string;
    readonly timestamp?: number;
  };
  /** Default: every configured region. */
  readonly regions?: ReadonlyArray<string>;
  /** A repeat with the same key returns the first deployment and starts nothing. */
  readonly idempotencyKey?: string;
}

export interface ListDeploymentsOptions {
  readonly environmentSlug?: string;
  /** Status names, e.g. `["READY"]`. */
  readonly statuses?: ReadonlyArray<string>;
  /** 1 to 200 (default 50). */
  readonly pageSize?: number;
  /** `nextPageToken` of the previous page. */
  readonly pageToken?: string;
}

/** One event of a watch, with the cursor that resumes right after it. */
export type WatchedEvent = DeploymentEvent & { readonly cursor: string };

export interface WatchOptions {
  /** Resume after this cursor (an event's `cursor`); absent: from the first event. */
  readonly cursor?: string;
  /** Only status and step events. */
  readonly excludeLogs?: boolean;
  /** Stops the watch early (the iteration ends without an error). */
  readonly signal?: AbortSignal;
}

export interface VariableInput {
  readonly key: string;
  readonly value: string;
  /** Sealed with the key ring; its value is never returned by any operation. */
  readonly secret?: boolean;
}

export interface ProjectOperations {
  create(request: { readonly name: string; readonly slug: string }): Promise<ProjectView>;
  /** By id (`prj_...`) or slug. */
  get(idOrSlug: string): Promise<ProjectView>;
  list(options?: {
    readonly pageSize?: number;
    readonly pageToken?: string;
  }): Promise<{ readonly projects: ReadonlyArray<ProjectView>; readonly nextPageToken: string }>;
  updateSettings(
    projectId: string,
    settings: {
      readonly containerPort?: number;
      readonly healthCheckPath?: string;
      readonly healthCheckTimeoutSeconds?: number;
      readonly replicasPerRegion?: number;
    },
  ): Promise<ProjectView>;
  createEnvironment(projectId: string, slug: string): Promise<Environment>;
  /** Sets (and with `deleteKeys` removes) variables; answers the environment's variables. */
  setVariables(
    projectId: string,
    environmentSlug: string,
    variables: ReadonlyArray<VariableInput>,
    deleteKeys?: ReadonlyArray<string>,
  ): Promise<ReadonlyArray<VariableView>>;
  /** Secret variables come back with `secret: true` and an empty value. */
  listVariables(projectId: string, environmentSlug: string): Promise<ReadonlyArray<VariableView>>;
}

export interface DeploymentOperations {
  /** Stores the deployment PENDING and queues its deploy in hydra; does not wait for it. */
  create(request: CreateDeploymentRequest): Promise<CreateDeploymentResult>;
  get(deploymentId: string): Promise<DeploymentDetails>;
  /** The project's deployments, newest first. */
  list(projectId: string, options?: ListDeploymentsOptions): Promise<DeploymentDetailsPage>;
  /** Waits until the switch is done. Promoting what is live already succeeds, `changed: false`. */
  promote(
    targetDeploymentId: string,
    options?: { readonly idempotencyKey?: string },
  ): Promise<TrafficChange>;
  /** From the live `sourceDeploymentId` back to `targetDeploymentId`; pins production. */
  rollback(
    sourceDeploymentId: string,
    targetDeploymentId: string,
    options?: { readonly idempotencyKey?: string },
  ): Promise<TrafficChange>;
  cancel(deploymentId: string): Promise<CancelDeploymentResult>;
  /**
   * The deployment's events from the start (or after `cursor`), then live; the iteration ends
   * after the terminal status event. Rejects with ServiceClosed if the service closes first.
   */
  watch(deploymentId: string, options?: WatchOptions): AsyncIterable<WatchedEvent>;
  /** Writes an archive (tar.gz) into build storage; pass the path to `create`. */
  uploadBuildContext(projectId: string, body: BuildContextBody): Promise<UploadedBuildContext>;
}

export interface DeploymentService {
  /** The workspace every operation acts for. */
  readonly workspace: Workspace;
  readonly regions: ReadonlyArray<string>;
  readonly projects: ProjectOperations;
  readonly deployments: DeploymentOperations;
  /**
   * For Effect users: the runtime with every service the domain's use cases need; run them
   * with `service.workspace.id`.
   */
  readonly runtime: ManagedRuntime.ManagedRuntime<DeploymentServices, never>;
  /** Ends open watches (ServiceClosed), releases the listener, the runtime and the pool. */
  close(): Promise<void>;
}

/**
 * How often watchers re-read the event log when the database is another process's embedded
 * PGlite (ctrl's, under `pnpm start`): PGlite writes a notification only into the output of the
 * connection whose commit sent it, so this process's LISTEN never hears hydra's events, and
 * the feed's backstop timer is what wakes the watchers.
 */
export const REMOTE_PGLITE_POLL_MS = 500;

/** True when the URL leads to a PGlite that this process does not hold (its socket server). */
const servesPgliteRemotely = async (db: Database): Promise<boolean> => {
  if (db.embedded !== undefined) return false;
  const [row] = await db.prisma.$queryRawUnsafe<Array<{ version: string }>>(
    "SELECT version() AS version",
  );
  return row?.version.includes("PGlite") === true;
};

const workspaceOf = (workspace: string) =>
  Effect.gen(function* () {
    const workspaces = yield* WorkspaceRepository;
    const found = Schema.is(WorkspaceId)(workspace)
      ? yield* workspaces.findById(workspace)
      : yield* workspaces.findBySlug(workspace);
    return yield* Option.match(found, {
      onNone: () => Effect.fail(new NotFound({ resource: "workspace", id: workspace })),
      onSome: Effect.succeed,
    });
  });

/** Opens the service; rejects with ValidationError (config), DatabaseSchemaBehind or NotFound (workspace). */
export const createDeploymentService = async (
  config: DeploymentServiceConfig,
): Promise<DeploymentService> => {
  const checked = checkConfig(config);
  const sink = config.log ?? stderrSink;
  const db: Database = await openDatabase(checked.database, {
    migrate: config.migrate === true,
    poolSize: config.poolSize ?? DEFAULT_POOL_SIZE,
  });
  const cleanups: Array<() => Promise<void>> = [() => db.close()];
  const cleanUp = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  };
  try {
    const pending = await pendingMigrations(db.prisma).catch((error: unknown) => {
      // The first query: an unreachable server or a refused login shows here. Never the password.
      throw new Error(
        `cannot read the database ${describeDatabaseConfig(checked.database)}: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    });
    if (pending.length > 0) throw new DatabaseSchemaBehind({ pending: [...pending] });

    const eventFeed = startDeploymentEventFeed(db, {
      ...((await servesPgliteRemotely(db)) ? { maxWaitMs: REMOTE_PGLITE_POLL_MS } : {}),
      onError: (error) =>
        sink({
          level: "warn",
          message: "deployment event feed: notification connection lost",
          fields: { error: error.message, database: describeDatabaseConfig(checked.database) },
        }),
    });
    cleanups.push(() => eventFeed.close());
    await eventFeed.ready;

    const storage = wireBuildStorage(config.buildStorage, {
      // Local upload URLs are never handed out by the library (it writes the files itself).
      publicBaseUrl: () => "http://127.0.0.1",
      signingSecret: uploadSigningSecret(config.secretKeys),
    });
    const runtime = ManagedRuntime.make(
      Layer.merge(
        liveLayer({
          prisma: db.prisma,
          platform: { apexDomain: config.apexDomain, availableRegions: [...config.regions] },
          secretKeys: config.secretKeys,
          buildStorage: storage.layer,
          buildContextLimits: checked.buildContextLimits,
          workflowEngine: restateWorkflowEngine(checked.restate),
          eventFeed: eventFeed.layer,
        }),
        Logger.replace(Logger.defaultLogger, effectLogger(sink)),
      ),
    );
    cleanups.push(() => runtime.dispose());
    // Closed first (cleanups run last-in first): open watches end with ServiceClosed before
    // the runtime they run on goes away. Closing it twice is harmless.
    cleanups.push(() => eventFeed.close());

    let closed = false;
    const run = async <A>(
      effect: Effect.Effect<A, DomainError, DeploymentServices>,
    ): Promise<A> => {
      if (closed) throw new ServiceClosed();
      const exit = await runtime.runPromiseExit(effect);
      if (Exit.isSuccess(exit)) return exit.value;
      const failure = Cause.failureOption(exit.cause);
      if (Option.isSome(failure)) throw failure.value;
      if (closed && Cause.isInterruptedOnly(exit.cause)) throw new ServiceClosed();
      sink({
        level: "error",
        message: "deployment service: operation failed with an internal error",
        fields: { cause: Cause.pretty(exit.cause, { renderErrorCause: true }) },
      });
      const defect = Cause.squash(exit.cause);
      throw new InternalError({
        detail: defect instanceof Error ? defect.message : String(defect),
      });
    };

    const workspace = await run(workspaceOf(config.workspace.trim()));
    const workspaceId = workspace.id;
    const inWorkspace = <A>(
      useCase: (id: WorkspaceId) => Effect.Effect<A, DomainError, DeploymentServices>,
    ) => run(useCase(workspaceId));

    const projects: ProjectOperations = {
      create: (request) => inWorkspace((id) => createProject(id, request)),
      get: (idOrSlug) =>
        inWorkspace((id) =>
          idOrSlug === ""
            ? getProject(id, {})
            : resolveProject(id, idOrSlug).pipe(
                Effect.flatMap((project) => getProject(id, { projectId: project.id })),
              ),
        ),
      list: (options = {}) => inWorkspace((id) => listProjects(id, options)),
      updateSettings: (projectId, settings) =>
        inWorkspace((id) => updateProjectSettings(id, { ...settings, projectId })),
      createEnvironment: (projectId, slug) =>
        inWorkspace((id) => createEnvironment(id, { projectId, slug, kind: "PREVIEW" })),
      setVariables: (projectId, environmentSlug, variables, deleteKeys = []) =>
        inWorkspace((id) =>
          setEnvironmentVariables(id, {
            projectId,
            environmentSlug,
            variables: variables.map((v) => ({
              key: v.key,
              value: v.value,
              secret: v.secret ?? false,
            })),
            deleteKeys,
          }),
        ),
      listVariables: (projectId, environmentSlug) =>
        inWorkspace((id) => listEnvironmentVariables(id, { projectId, environmentSlug })),
    };

    const deployments: DeploymentOperations = {
      create: (request) =>
        inWorkspace((id) => createDeployment(id, createDeploymentInput(request))),
      get: (deploymentId) => inWorkspace((id) => getDeploymentDetails(id, deploymentId)),
      list: (projectId, options = {}) =>
        inWorkspace((id) => listDeploymentDetails(id, { ...options, projectId })),
      promote: (targetDeploymentId, options = {}) =>
        inWorkspace((id) => promoteDeployment(id, { targetDeploymentId, ...options })),
      rollback: (sourceDeploymentId, targetDeploymentId, options = {}) =>
        inWorkspace((id) =>
          rollbackDeployment(id, { sourceDeploymentId, targetDeploymentId, ...options }),
        ),
      cancel: (deploymentId) => inWorkspace((id) => cancelDeployment(id, { deploymentId })),
      watch: (deploymentId, options = {}) => ({
        async *[Symbol.asyncIterator]() {
          const items = watchDeploymentEvents(
            inWorkspace,
            {
              deploymentId,
              ...(options.cursor === undefined ? {} : { afterCursor: options.cursor }),
              ...(options.excludeLogs === undefined ? {} : { excludeLogs: options.excludeLogs }),
            },
            {
              signal: options.signal ?? new AbortController().signal,
              fields: { deploymentId: "deploymentId", cursor: "cursor" },
              onClosed: () => new ServiceClosed(),
            },
          );
          for await (const item of items)
            if (item._tag === "Event") yield { ...item.event, cursor: item.cursor };
        },
      }),
      uploadBuildContext: async (projectId, body) => {
        const held = holdBody(body);
        const upload = await inWorkspace((id) => createUploadUrl(id, { projectId })).catch(
          (error: unknown) => {
            held.source.destroy();
            throw error;
          },
        );
        return await storeBuildContext(
          {
            storage: config.buildStorage,
            key: upload.buildContextPath,
            url: upload.url,
            headers: upload.headers,
            maxSizeBytes: upload.maxSizeBytes,
          },
          held,
        );
      },
    };

    let closing: Promise<void> | undefined;
    return {
      workspace,
      regions: [...config.regions],
      projects,
      deployments,
      runtime,
      close: () => {
        closing ??= (async () => {
          closed = true;
          await cleanUp();
        })();
        return closing;
      },
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
};

/** The request as CreateDeployment validates it (the domain's field names). */
const createDeploymentInput = (request: CreateDeploymentRequest): unknown => {
  const source = request.source as Partial<{
    image: string;
    buildContextPath: string;
    dockerfilePath: string;
  }>;
  return {
    projectId: request.projectId,
    environmentSlug: request.environmentSlug,
    ...(source === undefined
      ? {}
      : source.image !== undefined
        ? { source: { _tag: "DockerImage", image: source.image } }
        : {
            source: {
              _tag: "BuildContext",
              buildContextPath: source.buildContextPath ?? "",
              ...(source.dockerfilePath ? { dockerfilePath: source.dockerfilePath } : {}),
            },
          }),
    ...(request.gitCommit === undefined ? {} : { gitCommit: request.gitCommit }),
    regions: request.regions ?? [],
    idempotencyKey: request.idempotencyKey ?? "",
  };
};
