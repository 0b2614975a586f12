/**
 * In-memory implementations of the domain's ports, for tests of the domain and
 * of the packages built on it. They follow the ports' doc comments to the
 * letter: the database adapters must behave the same way.
 *
 * All state lives in one `Ref` (`InMemoryStore`) made when the layer is
 * built, so every test that provides `InMemoryLayer` starts empty. Each
 * repository call yields once, like a database round trip, then applies its
 * whole change in one `Ref.modify`: concurrent callers interleave between
 * calls, never inside one, which is what a transaction guarantees.
 */

import { Clock, Context, Effect, type Exit, Layer, Option, Ref } from "effect";
import {
  AlreadyExists,
  type NotFound,
  type PreconditionFailed,
  WorkflowUnavailable,
} from "../errors.ts";
import {
  type ApiKeyId,
  type DeploymentId,
  type EnvironmentId,
  Ids,
  type ProjectId,
  type WorkspaceId,
} from "../ids.ts";
import type {
  Deployment,
  DeploymentStatus,
  DeploymentStep,
  SnapshotVariable,
} from "../model/deployment.ts";
import { byStepOrder } from "../model/deployment.ts";
import type { Environment, Project, Workspace } from "../model/project.ts";
import type { Route } from "../model/route.ts";
import type { EnvironmentVariable } from "../model/variable.ts";
import { BuildContextLimits, BuildStorage, BuildStorageError } from "../ports/build-storage.ts";
import { DeploymentRepository, IdempotencyKeyTaken } from "../ports/deployments.ts";
import {
  checkLogLimits,
  DEFAULT_LOG_LIMITS,
  type DeploymentEvent,
  type DeploymentEventBody,
  DeploymentEventFeed,
  EventLog,
  type LogLimits,
  normalizeLogLines,
  tailWithinLimits,
  unstoredLines,
} from "../ports/events.ts";
import { Platform } from "../ports/platform.ts";
import { EnvironmentRepository, ProjectRepository } from "../ports/projects.ts";
import { RouteRepository } from "../ports/routes.ts";
import { SecretBox, SecretBoxError } from "../ports/secret-box.ts";
import { EnvironmentVariableRepository } from "../ports/variables.ts";
import {
  type ProjectOperation,
  type TrafficResult,
  WorkflowEngine,
} from "../ports/workflow-engine.ts";
import { type ApiKey, ApiKeyRepository, WorkspaceRepository } from "../ports/workspaces.ts";
import { applyPromote, applyRollback } from "../use-cases/traffic.ts";
import { utf8ByteLength } from "../validation/utf8.ts";

// ---------------------------------------------------------------------------
// The store

export interface InMemoryData {
  readonly workspaces: ReadonlyMap<WorkspaceId, Workspace>;
  readonly apiKeys: ReadonlyMap<ApiKeyId, ApiKey>;
  readonly projects: ReadonlyMap<ProjectId, Project>;
  readonly environments: ReadonlyMap<EnvironmentId, Environment>;
  /** Per environment, by key. */
  readonly variables: ReadonlyMap<EnvironmentId, ReadonlyMap<string, EnvironmentVariable>>;
  readonly deployments: ReadonlyMap<DeploymentId, Deployment>;
  readonly snapshots: ReadonlyMap<DeploymentId, ReadonlyArray<SnapshotVariable>>;
  readonly steps: ReadonlyArray<DeploymentStep>;
  /** By hostname: a hostname points at one deployment. */
  readonly routes: ReadonlyMap<string, Route>;
  /** Every deployment's events, in the order they were written. */
  readonly events: ReadonlyArray<DeploymentEvent>;
  /** Per deployment: the seq of its last event ever written (deployments.event_seq). */
  readonly eventSeqs: ReadonlyMap<DeploymentId, bigint>;
  /** Per deployment: the highest source offset of a stored log line (deployments.log_offset). */
  readonly logOffsets: ReadonlyMap<DeploymentId, number>;
  /** Uploaded build contexts: storage key → the archive's bytes. */
  readonly buildContexts: ReadonlyMap<string, Uint8Array>;
}

export const emptyInMemoryData: InMemoryData = {
  workspaces: new Map(),
  apiKeys: new Map(),
  projects: new Map(),
  environments: new Map(),
  variables: new Map(),
  deployments: new Map(),
  snapshots: new Map(),
  steps: [],
  routes: new Map(),
  events: [],
  eventSeqs: new Map(),
  logOffsets: new Map(),
  buildContexts: new Map(),
};

/** The state behind every in-memory port; tests may read or seed it directly. */
export class InMemoryStore extends Context.Tag("@ferry/domain/testing/InMemoryStore")<
  InMemoryStore,
  Ref.Ref<InMemoryData>
>() {
  static readonly layer = Layer.effect(this, Ref.make(emptyInMemoryData));
}

type Outcome<A, E> = { readonly ok: A; readonly data?: InMemoryData } | { readonly error: E };

/**
 * One round trip: yield, then decide and apply atomically. Returning `data`
 * commits it; an `error` commits nothing. Throwing is a defect (like a
 * violated database constraint) and commits nothing either.
 */
const transact = <A, E = never>(
  store: Ref.Ref<InMemoryData>,
  f: (data: InMemoryData) => Outcome<A, E>,
): Effect.Effect<A, E> =>
  Effect.yieldNow().pipe(
    Effect.zipRight(
      Ref.modify(store, (data): [readonly [Outcome<A, E>, boolean], InMemoryData] => {
        const outcome = f(data);
        const next = "data" in outcome && outcome.data !== undefined ? outcome.data : data;
        return [[outcome, next.events !== data.events], next];
      }),
    ),
    // Like a commit's notification: the event log's watchers wake after the change is in.
    Effect.tap(([, eventsChanged]) => (eventsChanged ? wakeEventWatchers(store) : Effect.void)),
    Effect.flatMap(([outcome]) =>
      "error" in outcome ? Effect.fail(outcome.error) : Effect.succeed(outcome.ok),
    ),
  );

/** Per store: the wake-ups of InMemoryDeploymentEventFeed's waiters. */
const eventWatchers = new WeakMap<Ref.Ref<InMemoryData>, Set<() => void>>();

const wakeEventWatchers = (store: Ref.Ref<InMemoryData>) =>
  Effect.sync(() => {
    const watchers = eventWatchers.get(store);
    if (watchers === undefined) return;
    for (const wake of [...watchers]) wake();
  });

/**
 * `data` with events appended to the deployment's log, numbered after its last seq: what every
 * in-memory write of an event goes through (inside the same `transact` as the change).
 */
const withEvents = (
  data: InMemoryData,
  deploymentId: DeploymentId,
  events: ReadonlyArray<{ readonly at: number; readonly body: DeploymentEventBody }>,
): InMemoryData => {
  if (events.length === 0) return data;
  let seq = data.eventSeqs.get(deploymentId) ?? 0n;
  const appended = events.map((event): DeploymentEvent => {
    seq += 1n;
    return { deploymentId, seq, at: event.at, body: event.body };
  });
  return {
    ...data,
    events: [...data.events, ...appended],
    eventSeqs: put(data.eventSeqs, deploymentId, seq),
  };
};

/** The status event of a change to `status`, as the project's live pointer is in `data`. */
const statusEvent = (
  data: InMemoryData,
  deployment: Deployment,
  status: DeploymentStatus,
  at: number,
) => ({
  at,
  body: {
    _tag: "Status" as const,
    status,
    ...(status === "FAILED" && deployment.errorMessage !== undefined
      ? { errorMessage: deployment.errorMessage }
      : {}),
    isLive: data.projects.get(deployment.projectId)?.liveDeploymentId === deployment.id,
  },
});

const stepEvent = (step: DeploymentStep) => ({
  at: step.endedAt ?? step.startedAt,
  body: { _tag: "Step" as const, step },
});

const read = <A>(store: Ref.Ref<InMemoryData>, f: (data: InMemoryData) => A): Effect.Effect<A> =>
  Effect.yieldNow().pipe(Effect.zipRight(Ref.get(store)), Effect.map(f));

const put = <K, V>(map: ReadonlyMap<K, V>, key: K, value: V): ReadonlyMap<K, V> =>
  new Map(map).set(key, value);

const newestFirst = <T extends { readonly id: string }>(a: T, b: T): number =>
  a.id < b.id ? 1 : a.id > b.id ? -1 : 0;

const byString =
  <T>(key: (item: T) => string) =>
  (a: T, b: T): number =>
    key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;

const find = <V>(map: ReadonlyMap<unknown, V>, predicate: (value: V) => boolean) =>
  Option.fromNullable([...map.values()].find(predicate));

// ---------------------------------------------------------------------------
// Workspaces and API keys

export const InMemoryWorkspaceRepository = Layer.effect(
  WorkspaceRepository,
  Effect.map(InMemoryStore, (store) =>
    WorkspaceRepository.of({
      create: (workspace) =>
        transact(store, (data) =>
          Option.isSome(find(data.workspaces, (w) => w.slug === workspace.slug))
            ? { error: new AlreadyExists({ resource: "workspace", id: workspace.slug }) }
            : {
                ok: undefined,
                data: { ...data, workspaces: put(data.workspaces, workspace.id, workspace) },
              },
        ),
      findById: (id) => read(store, (data) => Option.fromNullable(data.workspaces.get(id))),
      findBySlug: (slug) => read(store, (data) => find(data.workspaces, (w) => w.slug === slug)),
    }),
  ),
);

export const InMemoryApiKeyRepository = Layer.effect(
  ApiKeyRepository,
  Effect.map(InMemoryStore, (store) => {
    const update = (id: ApiKeyId, change: (key: ApiKey) => ApiKey) =>
      transact(store, (data) => {
        const key = data.apiKeys.get(id);
        return key === undefined
          ? { ok: undefined }
          : { ok: undefined, data: { ...data, apiKeys: put(data.apiKeys, id, change(key)) } };
      });
    return ApiKeyRepository.of({
      create: (key) =>
        transact(store, (data) => ({
          ok: undefined,
          data: { ...data, apiKeys: put(data.apiKeys, key.id, key) },
        })),
      findActiveByHash: (hash) =>
        read(store, (data) =>
          find(data.apiKeys, (k) => k.hash === hash && k.revokedAt === undefined),
        ),
      markUsed: (id, at) => update(id, (key) => ({ ...key, lastUsedAt: at })),
      // A key is revoked once: revoking it again keeps the first time.
      revoke: (id, at) =>
        update(id, (key) => (key.revokedAt === undefined ? { ...key, revokedAt: at } : key)),
    });
  }),
);

// ---------------------------------------------------------------------------
// Projects and environments

export const InMemoryProjectRepository = Layer.effect(
  ProjectRepository,
  Effect.map(InMemoryStore, (store) =>
    ProjectRepository.of({
      create: (project, environments) =>
        transact(store, (data) => {
          const taken = find(
            data.projects,
            (p) => p.workspaceId === project.workspaceId && p.slug === project.slug,
          );
          if (Option.isSome(taken))
            return { error: new AlreadyExists({ resource: "project", id: project.slug }) };
          const allEnvironments = new Map(data.environments);
          for (const environment of environments) allEnvironments.set(environment.id, environment);
          return {
            ok: undefined,
            data: {
              ...data,
              projects: put(data.projects, project.id, project),
              environments: allEnvironments,
            },
          };
        }),
      findById: (workspaceId, id) =>
        read(store, (data) =>
          Option.fromNullable(data.projects.get(id)).pipe(
            Option.filter((p) => p.workspaceId === workspaceId),
          ),
        ),
      findBySlug: (workspaceId, slug) =>
        read(store, (data) =>
          find(data.projects, (p) => p.workspaceId === workspaceId && p.slug === slug),
        ),
      list: (workspaceId, page) =>
        read(store, (data) =>
          [...data.projects.values()]
            .filter(
              (p) =>
                p.workspaceId === workspaceId &&
                (page.afterSlug === undefined || p.slug > page.afterSlug),
            )
            // Byte order, as the Prisma repository sorts (COLLATE "C"): slugs are ASCII.
            .sort((a, b) => (a.slug < b.slug ? -1 : a.slug > b.slug ? 1 : 0))
            .slice(0, page.limit),
        ),
      updateSettings: (workspaceId, id, patch, at) =>
        transact(store, (data) => {
          const project = data.projects.get(id);
          if (project === undefined || project.workspaceId !== workspaceId)
            return { ok: Option.none() };
          const { settings } = project;
          const updated: Project = {
            ...project,
            settings: {
              containerPort: patch.containerPort ?? settings.containerPort,
              healthCheckPath: patch.healthCheckPath ?? settings.healthCheckPath,
              healthCheckTimeoutSeconds:
                patch.healthCheckTimeoutSeconds ?? settings.healthCheckTimeoutSeconds,
              replicasPerRegion: patch.replicasPerRegion ?? settings.replicasPerRegion,
            },
            updatedAt: at,
          };
          return {
            ok: Option.some(updated),
            data: { ...data, projects: put(data.projects, id, updated) },
          };
        }),
    }),
  ),
);

export const InMemoryEnvironmentRepository = Layer.effect(
  EnvironmentRepository,
  Effect.map(InMemoryStore, (store) =>
    EnvironmentRepository.of({
      create: (environment) =>
        transact(store, (data) =>
          Option.isSome(
            find(
              data.environments,
              (e) => e.projectId === environment.projectId && e.slug === environment.slug,
            ),
          )
            ? { error: new AlreadyExists({ resource: "environment", id: environment.slug }) }
            : {
                ok: undefined,
                data: {
                  ...data,
                  environments: put(data.environments, environment.id, environment),
                },
              },
        ),
      findById: (workspaceId, id) =>
        read(store, (data) =>
          Option.fromNullable(data.environments.get(id)).pipe(
            Option.filter((e) => e.workspaceId === workspaceId),
          ),
        ),
      findBySlug: (projectId, slug) =>
        read(store, (data) =>
          find(data.environments, (e) => e.projectId === projectId && e.slug === slug),
        ),
      list: (projectId) =>
        read(store, (data) =>
          [...data.environments.values()]
            .filter((e) => e.projectId === projectId)
            .sort(byString((e) => e.slug)),
        ),
    }),
  ),
);

export const InMemoryEnvironmentVariableRepository = Layer.effect(
  EnvironmentVariableRepository,
  Effect.map(InMemoryStore, (store) =>
    EnvironmentVariableRepository.of({
      set: (environmentId, variables, at, removeKeys = []) =>
        transact(store, (data) => {
          const current = new Map(data.variables.get(environmentId));
          for (const key of removeKeys) current.delete(key);
          for (const variable of variables) {
            const existing = current.get(variable.key);
            current.set(variable.key, {
              id: existing?.id ?? variable.id,
              environmentId,
              key: variable.key,
              value: variable.value,
              createdAt: existing?.createdAt ?? at,
              updatedAt: at,
            });
          }
          return {
            ok: undefined,
            data: { ...data, variables: put(data.variables, environmentId, current) },
          };
        }),
      unset: (environmentId, keys) =>
        transact(store, (data) => {
          const current = new Map(data.variables.get(environmentId));
          let removed = 0;
          for (const key of new Set(keys)) if (current.delete(key)) removed++;
          return {
            ok: removed,
            data: { ...data, variables: put(data.variables, environmentId, current) },
          };
        }),
      list: (environmentId) =>
        read(store, (data) =>
          [...(data.variables.get(environmentId)?.values() ?? [])].sort(byString((v) => v.key)),
        ),
    }),
  ),
);

// ---------------------------------------------------------------------------
// Deployments and their steps

const snapshotOf = (variables: Iterable<EnvironmentVariable>): ReadonlyArray<SnapshotVariable> =>
  [...variables]
    .sort(byString((v) => v.key))
    .map((v) =>
      v.value._tag === "Plain"
        ? { _tag: "Plain", key: v.key, value: v.value.value }
        : { _tag: "Secret", key: v.key, sealed: v.value.sealed },
    );

export const InMemoryDeploymentRepository = Layer.effect(
  DeploymentRepository,
  Effect.map(InMemoryStore, (store) =>
    DeploymentRepository.of({
      create: (deployment) =>
        transact(store, (data) => {
          const key = deployment.idempotencyKey;
          if (
            key !== undefined &&
            Option.isSome(
              find(
                data.deployments,
                (d) => d.workspaceId === deployment.workspaceId && d.idempotencyKey === key,
              ),
            )
          )
            return { error: new IdempotencyKeyTaken({ idempotencyKey: key }) };
          if (data.deployments.has(deployment.id))
            throw new Error(`deployment ${deployment.id} already exists`);
          const variables = data.variables.get(deployment.environmentId)?.values() ?? [];
          const stored = {
            ...data,
            deployments: put(data.deployments, deployment.id, deployment),
            snapshots: put(data.snapshots, deployment.id, snapshotOf(variables)),
          };
          return {
            ok: deployment,
            data: withEvents(stored, deployment.id, [
              statusEvent(stored, deployment, deployment.status, deployment.createdAt),
            ]),
          };
        }),
      findById: (workspaceId, id) =>
        read(store, (data) =>
          Option.fromNullable(data.deployments.get(id)).pipe(
            Option.filter((d) => d.workspaceId === workspaceId),
          ),
        ),
      findByIdempotencyKey: (workspaceId, key) =>
        read(store, (data) =>
          find(data.deployments, (d) => d.workspaceId === workspaceId && d.idempotencyKey === key),
        ),
      list: (query) =>
        read(store, (data) =>
          [...data.deployments.values()]
            .filter(
              (d) =>
                d.workspaceId === query.workspaceId &&
                d.projectId === query.projectId &&
                (query.environmentId === undefined || d.environmentId === query.environmentId) &&
                (query.statuses === undefined ||
                  query.statuses.length === 0 ||
                  query.statuses.includes(d.status)) &&
                (query.branch === undefined || d.gitCommit?.branch === query.branch) &&
                (query.beforeId === undefined || d.id < query.beforeId),
            )
            .sort(newestFirst)
            .slice(0, query.limit),
        ),
      setInvocationId: (id, invocationId) =>
        transact(store, (data) => {
          const deployment = data.deployments.get(id);
          return deployment === undefined
            ? { ok: undefined }
            : {
                ok: undefined,
                data: {
                  ...data,
                  deployments: put(data.deployments, id, {
                    ...deployment,
                    restateInvocationId: invocationId,
                  }),
                },
              };
        }),
      updateStatus: (id, change) =>
        transact(store, (data) => {
          const deployment = data.deployments.get(id);
          if (deployment === undefined || !change.from.includes(deployment.status))
            return { ok: Option.none() };
          const { idempotencyKey, ...withoutKey } = deployment;
          const updated: Deployment = {
            ...(change.releaseIdempotencyKey === true || idempotencyKey === undefined
              ? withoutKey
              : deployment),
            status: change.to,
            updatedAt: change.at,
            ...(change.errorMessage === undefined ? {} : { errorMessage: change.errorMessage }),
            ...(change.image === undefined ? {} : { image: change.image }),
          };
          const stored = { ...data, deployments: put(data.deployments, id, updated) };
          return {
            ok: Option.some(updated),
            // Only an actual change of status is an event (a repeated call changes nothing).
            data:
              deployment.status === change.to
                ? stored
                : withEvents(stored, id, [statusEvent(stored, updated, change.to, change.at)]),
          };
        }),
      snapshot: (id) => read(store, (data) => data.snapshots.get(id) ?? []),
      supersedeOlderPending: (input) =>
        transact(store, (data) => {
          const older = [...data.deployments.values()]
            .filter(
              (d) =>
                d.status === "PENDING" &&
                d.projectId === input.projectId &&
                d.environmentId === input.environmentId &&
                d.gitCommit?.branch === input.branch &&
                d.id < input.newerThan,
            )
            .sort(byString((d) => d.id));
          const deployments = new Map(data.deployments);
          for (const d of older)
            deployments.set(d.id, { ...d, status: "SUPERSEDED", updatedAt: input.at });
          let next: InMemoryData = { ...data, deployments };
          for (const d of older)
            next = withEvents(next, d.id, [statusEvent(next, d, "SUPERSEDED", input.at)]);
          return { ok: older.map((d) => d.id), data: next };
        }),
      listSteps: (id) =>
        read(store, (data) => data.steps.filter((s) => s.deploymentId === id).sort(byStepOrder)),
      startStep: (step) =>
        transact(store, (data) => {
          if (data.steps.some((s) => s.deploymentId === step.deploymentId && s.name === step.name))
            return { ok: undefined };
          const started: DeploymentStep = {
            id: step.id,
            deploymentId: step.deploymentId,
            name: step.name,
            status: "RUNNING",
            startedAt: step.at,
          };
          return {
            ok: undefined,
            data: withEvents({ ...data, steps: [...data.steps, started] }, step.deploymentId, [
              stepEvent(started),
            ]),
          };
        }),
      finishStep: (step) =>
        transact(store, (data) => {
          const index = data.steps.findIndex(
            (s) =>
              s.deploymentId === step.deploymentId &&
              s.name === step.name &&
              s.status === "RUNNING",
          );
          const running = data.steps[index];
          if (running === undefined) return { ok: undefined };
          const ended: DeploymentStep = {
            ...running,
            status: step.status,
            endedAt: step.at,
            ...(step.message === undefined ? {} : { message: step.message }),
          };
          const steps = [...data.steps];
          steps[index] = ended;
          return {
            ok: undefined,
            data: withEvents({ ...data, steps }, step.deploymentId, [stepEvent(ended)]),
          };
        }),
    }),
  ),
);

// ---------------------------------------------------------------------------
// Routes and the project's live deployment and pin

export const InMemoryRouteRepository = Layer.effect(
  RouteRepository,
  Effect.gen(function* () {
    const store = yield* InMemoryStore;
    const ids = yield* Ids;
    const byHostname = byString<Route>((r) => r.hostname);
    // The port's order: kind (DEPLOYMENT, BRANCH, ENVIRONMENT, LIVE), then hostname.
    const KIND_ORDER = ["DEPLOYMENT", "BRANCH", "ENVIRONMENT", "LIVE"];
    const byKindThenHostname = (a: Route, b: Route) =>
      KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || byHostname(a, b);
    return RouteRepository.of({
      point: (input) =>
        // An id for each hostname, used only by the ones that do not exist yet.
        Effect.forEach(input.routes, (target) =>
          Effect.map(ids.next("route"), (id) => ({ ...target, id })),
        ).pipe(
          Effect.flatMap((targets) =>
            transact(store, (data) => {
              const routes = new Map(data.routes);
              const pointed = targets.map((target): Route => {
                const existing = routes.get(target.hostname);
                const route: Route =
                  existing === undefined
                    ? {
                        id: target.id,
                        workspaceId: input.workspaceId,
                        projectId: input.projectId,
                        environmentId: input.environmentId,
                        deploymentId: input.deploymentId,
                        hostname: target.hostname,
                        kind: target.kind,
                        createdAt: input.at,
                        updatedAt: input.at,
                      }
                    : {
                        ...existing,
                        environmentId: input.environmentId,
                        deploymentId: input.deploymentId,
                        kind: target.kind,
                        updatedAt: input.at,
                      };
                routes.set(route.hostname, route);
                return route;
              });
              let projects = data.projects;
              if (input.liveTraffic !== undefined) {
                const project = data.projects.get(input.projectId);
                if (project === undefined) throw new Error(`project ${input.projectId} not found`);
                projects = put(projects, project.id, {
                  ...project,
                  liveDeploymentId: input.deploymentId,
                  rolledBack: input.liveTraffic.rolledBack,
                  updatedAt: input.at,
                });
              }
              return { ok: pointed, data: { ...data, routes, projects } };
            }),
          ),
        ),
      setPin: (projectId, rolledBack, at) =>
        transact(store, (data) => {
          const project = data.projects.get(projectId);
          return project === undefined
            ? { ok: undefined }
            : {
                ok: undefined,
                data: {
                  ...data,
                  projects: put(data.projects, projectId, {
                    ...project,
                    rolledBack,
                    updatedAt: at,
                  }),
                },
              };
        }),
      listByDeployment: (deploymentId) =>
        read(store, (data) =>
          [...data.routes.values()]
            .filter((r) => r.deploymentId === deploymentId)
            .sort(byKindThenHostname),
        ),
      listByProject: (projectId) =>
        read(store, (data) =>
          [...data.routes.values()]
            .filter((r) => r.projectId === projectId)
            .sort(byKindThenHostname),
        ),
      findByHostname: (hostname) =>
        read(store, (data) => Option.fromNullable(data.routes.get(hostname))),
    });
  }),
);

// ---------------------------------------------------------------------------
// Event log

/** An in-memory EventLog with this log budget per deployment (see the port). */
export const makeInMemoryEventLog = (limits: LogLimits = DEFAULT_LOG_LIMITS) => {
  checkLogLimits(limits);
  return Layer.effect(
    EventLog,
    Effect.map(InMemoryStore, (store) =>
      EventLog.of({
        appendLogs: (deploymentId, lines) =>
          transact(store, (data) => {
            const lastSeq = data.eventSeqs.get(deploymentId) ?? 0n;
            if (!data.deployments.has(deploymentId))
              return { ok: { appended: 0, dropped: 0, lastSeq } };
            const unstored = unstoredLines(lines, data.logOffsets.get(deploymentId) ?? null);
            const normalized = normalizeLogLines(unstored.lines);
            if (normalized.length === 0) return { ok: { appended: 0, dropped: 0, lastSeq } };
            const kept = tailWithinLimits(normalized, limits);
            let next = withEvents(
              data,
              deploymentId,
              kept.map(({ line }) => ({ at: line.at, body: { _tag: "Log" as const, line } })),
            );
            // Over budget: the deployment's oldest log lines go, the tail stays.
            const logs = next.events.filter(
              (e) => e.deploymentId === deploymentId && e.body._tag === "Log",
            );
            const sizes = logs.map((e) => ({
              event: e,
              bytes: e.body._tag === "Log" ? utf8ByteLength(e.body.line.text) : 0,
            }));
            const keep = new Set(tailWithinLimits(sizes, limits).map((entry) => entry.event));
            const deleted = logs.filter((e) => !keep.has(e));
            if (deleted.length > 0) {
              const gone = new Set(deleted);
              next = { ...next, events: next.events.filter((e) => !gone.has(e)) };
            }
            if (unstored.offset !== null)
              next = { ...next, logOffsets: put(next.logOffsets, deploymentId, unstored.offset) };
            return {
              ok: {
                appended: kept.length,
                dropped: normalized.length - kept.length + deleted.length,
                lastSeq: next.eventSeqs.get(deploymentId) ?? 0n,
              },
              data: next,
            };
          }),
        list: (deploymentId, query) =>
          read(store, (data) =>
            data.events
              .filter(
                (e) =>
                  e.deploymentId === deploymentId &&
                  e.seq > query.afterSeq &&
                  (query.kinds === undefined || query.kinds.includes(e.body._tag)) &&
                  (query.logStep === undefined ||
                    e.body._tag !== "Log" ||
                    e.body.line.step === query.logStep),
              )
              .slice(0, query.limit),
          ),
        lastSeq: (deploymentId) => read(store, (data) => data.eventSeqs.get(deploymentId) ?? 0n),
      }),
    ),
  );
};

/** The in-memory EventLog with DEFAULT_LOG_LIMITS. */
export const InMemoryEventLog = makeInMemoryEventLog();

/**
 * Wakes waiters when an in-memory port writes an event (changes made to the store directly,
 * bypassing the ports, wake nobody). Never closed.
 */
export const InMemoryDeploymentEventFeed = Layer.effect(
  DeploymentEventFeed,
  Effect.map(InMemoryStore, (store) =>
    DeploymentEventFeed.of({
      waitForEvents: (deploymentId, afterSeq) =>
        Effect.async<void>((resume) => {
          let watchers = eventWatchers.get(store);
          if (watchers === undefined) {
            watchers = new Set();
            eventWatchers.set(store, watchers);
          }
          const registered = watchers;
          const check = () => {
            if ((Effect.runSync(Ref.get(store)).eventSeqs.get(deploymentId) ?? 0n) > afterSeq) {
              registered.delete(check);
              resume(Effect.void);
            }
          };
          // Registered first, then checked: an event written in between is never missed.
          registered.add(check);
          check();
          return Effect.sync(() => registered.delete(check));
        }),
    }),
  ),
);

// ---------------------------------------------------------------------------
// Build storage

export const IN_MEMORY_STORAGE_URL = "https://storage.ferry.test/";

/**
 * Stands for the client's PUT to an upload URL: the key now holds these bytes (a number: that
 * many zero bytes).
 */
export const uploadBuildContext = (key: string, content: number | Uint8Array = 1024) =>
  Effect.flatMap(InMemoryStore, (store) =>
    Ref.update(store, (data) => ({
      ...data,
      buildContexts: put(
        data.buildContexts,
        key,
        typeof content === "number" ? new Uint8Array(content) : content,
      ),
    })),
  );

/**
 * The runtime's WHATWG ReadableStream: the domain compiles without DOM or Node types, so the
 * constructor is not declared for it (only the type, in ports/build-storage.ts).
 */
const WebReadableStream = (
  globalThis as unknown as {
    readonly ReadableStream: new (source: {
      start: (controller: { enqueue(chunk: Uint8Array): void; close(): void }) => void;
    }) => ReadableStream<Uint8Array>;
  }
).ReadableStream;

/** The limits TestLayer runs with: 1 MiB, URLs valid for 15 minutes. */
export const TEST_BUILD_CONTEXT_LIMITS = { maxSizeBytes: 1024 * 1024, uploadUrlTtlSeconds: 900 };

export const TestBuildContextLimits = Layer.succeed(BuildContextLimits, TEST_BUILD_CONTEXT_LIMITS);

export const InMemoryBuildStorage = Layer.effect(
  BuildStorage,
  Effect.map(InMemoryStore, (store) =>
    BuildStorage.of({
      createUploadUrl: (key, options) =>
        Effect.map(Clock.currentTimeMillis, (now) => ({
          url: `${IN_MEMORY_STORAGE_URL}${key}`,
          expiresAt: now + options.expiresInSeconds * 1000,
          headers:
            options.sizeBytes === undefined ? {} : { "content-length": String(options.sizeBytes) },
          maxSizeBytes: options.maxSizeBytes,
        })),
      stat: (key) =>
        read(store, (data) =>
          Option.fromNullable(data.buildContexts.get(key)).pipe(
            Option.map((bytes) => ({ sizeBytes: bytes.length })),
          ),
        ),
      read: (key) =>
        Effect.flatMap(
          read(store, (data) => data.buildContexts.get(key)),
          (bytes) =>
            bytes === undefined
              ? Effect.fail(
                  new BuildStorageError({ reason: `no build context stored at "${key}"` }),
                )
              : Effect.sync(
                  () =>
                    new WebReadableStream({
                      start: (controller) => {
                        controller.enqueue(bytes.slice());
                        controller.close();
                      },
                    }),
                ),
        ),
      remove: (key) =>
        transact(store, (data) => {
          const buildContexts = new Map(data.buildContexts);
          buildContexts.delete(key);
          return { ok: undefined, data: { ...data, buildContexts } };
        }),
      // The store keeps no write times: every object reads as written now (never old enough for
      // retention to take it as an abandoned upload).
      list: (prefix, { after, limit }) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          read(store, (data) => {
            const keys = [...data.buildContexts.keys()]
              .filter((key) => key.startsWith(prefix) && (after === undefined || key > after))
              .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
            const objects = keys.slice(0, limit).map((key) => ({
              key,
              sizeBytes: data.buildContexts.get(key)?.length ?? 0,
              lastModifiedAt: now,
            }));
            return {
              objects,
              nextAfter: keys.length > limit ? objects.at(-1)?.key : undefined,
            };
          }),
        ),
    }),
  ),
);

// ---------------------------------------------------------------------------
// Platform

export const TEST_APEX_DOMAIN = "ferry.test";
export const TEST_REGIONS: ReadonlyArray<string> = ["local-1", "local-2"];

export const TestPlatform = Layer.succeed(Platform, {
  apexDomain: TEST_APEX_DOMAIN,
  availableRegions: TEST_REGIONS,
});

// ---------------------------------------------------------------------------
// Secret box

export const TEST_SECRET_KEY_ID = "test";
const TEST_SEALED_PREFIX = "sealed:";
const reverse = (text: string): string => Array.from(text).reverse().join("");

/**
 * A reversible SecretBox for tests, NOT encryption: it seals under key id
 * "test" as "sealed:" + the text reversed, so a sealed value never equals its
 * plaintext and a test can still read it back. Opening anything else fails.
 */
export const TestSecretBox = Layer.succeed(
  SecretBox,
  SecretBox.of({
    seal: (plaintext) =>
      Effect.succeed({
        keyId: TEST_SECRET_KEY_ID,
        ciphertext: `${TEST_SEALED_PREFIX}${reverse(plaintext)}`,
      }),
    open: (sealed) =>
      sealed.keyId === TEST_SECRET_KEY_ID && sealed.ciphertext.startsWith(TEST_SEALED_PREFIX)
        ? Effect.succeed(reverse(sealed.ciphertext.slice(TEST_SEALED_PREFIX.length)))
        : Effect.fail(
            new SecretBoxError({ reason: `unknown key or ciphertext (key id "${sealed.keyId}")` }),
          ),
  }),
);

// ---------------------------------------------------------------------------
// Workflow engine

type StartDeploy = ProjectOperation & { readonly deploymentId: DeploymentId };
type PromoteOperation = ProjectOperation & { readonly targetDeploymentId: DeploymentId };
type RollbackOperation = ProjectOperation & {
  readonly sourceDeploymentId: DeploymentId;
  readonly targetDeploymentId: DeploymentId;
};

export type WorkflowCall =
  | { readonly _tag: "startDeploy"; readonly operation: StartDeploy }
  | { readonly _tag: "promote"; readonly operation: PromoteOperation }
  | { readonly _tag: "rollback"; readonly operation: RollbackOperation }
  | { readonly _tag: "cancel"; readonly invocationId: string };

export type WorkflowOperationName = WorkflowCall["_tag"];

/** Steers and observes the fake WorkflowEngine. */
export class WorkflowEngineControl extends Context.Tag(
  "@ferry/domain/testing/WorkflowEngineControl",
)<
  WorkflowEngineControl,
  {
    /** Every call received, in order, including the ones made to fail. */
    readonly calls: Effect.Effect<ReadonlyArray<WorkflowCall>>;
    /**
     * From now on, calls of these operations (every operation when omitted)
     * fail with WorkflowUnavailable(reason) without doing anything; `undefined` heals them.
     */
    readonly setUnavailable: (
      reason: string | undefined,
      operations?: ReadonlyArray<WorkflowOperationName>,
    ) => Effect.Effect<void>;
    /**
     * Runs once, inside the project's serialized section, just before the next
     * promote or rollback re-reads state: a change that happened while the call
     * waited in the queue.
     */
    readonly beforeNextApply: (change: Effect.Effect<void>) => Effect.Effect<void>;
    /**
     * From now on, promotes and rollbacks (both when omitted) run as usual, but their caller
     * gets WorkflowUnavailable(reason) instead of the result: a call that waited in the
     * project's queue past the engine's deadline, whose operation still ran. With a key, a
     * repeat answers the first outcome (it attached). `undefined` heals them.
     */
    readonly setTimingOut: (
      reason: string | undefined,
      operations?: ReadonlyArray<"promote" | "rollback">,
    ) => Effect.Effect<void>;
    /**
     * The invocation ends without recording anything (it crashed, was killed or purged): a
     * cancel of it then answers "gone", as Restate's 404/409. Invocations this engine never
     * started are gone too.
     */
    readonly endInvocation: (invocationId: string) => Effect.Effect<void>;
  }
>() {}

type ApplyServices =
  | DeploymentRepository
  | ProjectRepository
  | EnvironmentRepository
  | RouteRepository
  | WorkspaceRepository
  | Platform;

/** `current` with `reason` set for each operation (`undefined`: removed). */
const withReason = <K extends string>(
  current: ReadonlyMap<K, string>,
  operations: ReadonlyArray<K>,
  reason: string | undefined,
): ReadonlyMap<K, string> => {
  const next = new Map(current);
  for (const operation of operations)
    if (reason === undefined) next.delete(operation);
    else next.set(operation, reason);
  return next;
};

const ALL_OPERATIONS: ReadonlyArray<WorkflowOperationName> = [
  "startDeploy",
  "promote",
  "rollback",
  "cancel",
];

/**
 * A WorkflowEngine that does what the real workflows do, minus the deploy
 * itself: startDeploy only queues (one invocation id per deployment, so a
 * repeat starts nothing new); promote and rollback run `applyPromote` /
 * `applyRollback` against the same repositories, one at a time per project;
 * with an idempotency key, a repeat returns the first outcome.
 */
export const InMemoryWorkflowEngine = Layer.effectContext(
  Effect.gen(function* () {
    const services = yield* Effect.context<ApplyServices>();
    const calls = yield* Ref.make<ReadonlyArray<WorkflowCall>>([]);
    const unavailable = yield* Ref.make<ReadonlyMap<WorkflowOperationName, string>>(new Map());
    const pendingChange = yield* Ref.make<Option.Option<Effect.Effect<void>>>(Option.none());
    const invocations = yield* Ref.make<ReadonlyMap<DeploymentId, string>>(new Map());
    const ended = yield* Ref.make<ReadonlySet<string>>(new Set());
    const timingOut = yield* Ref.make<ReadonlyMap<"promote" | "rollback", string>>(new Map());
    /** The caller's view of a call that may have timed out after its operation ran. */
    const answer = <A, E>(name: "promote" | "rollback", call: Effect.Effect<A, E>) =>
      call.pipe(
        Effect.zipLeft(
          Effect.flatMap(Ref.get(timingOut), (late) => {
            const reason = late.get(name);
            return reason === undefined
              ? Effect.void
              : Effect.fail(new WorkflowUnavailable({ reason }));
          }),
        ),
      );
    const outcomes = yield* Ref.make<
      ReadonlyMap<string, Exit.Exit<TrafficResult, PreconditionFailed | NotFound>>
    >(new Map());
    const locks = new Map<ProjectId, Effect.Semaphore>();

    const receive = (call: WorkflowCall) =>
      Ref.update(calls, (all) => [...all, call]).pipe(
        Effect.zipRight(Ref.get(unavailable)),
        Effect.flatMap((down) => {
          const reason = down.get(call._tag);
          return reason === undefined
            ? Effect.void
            : Effect.fail(new WorkflowUnavailable({ reason }));
        }),
      );

    const serialized = <A, E>(projectId: ProjectId, effect: Effect.Effect<A, E>) =>
      Effect.suspend(() => {
        let lock = locks.get(projectId);
        if (lock === undefined) {
          lock = Effect.unsafeMakeSemaphore(1);
          locks.set(projectId, lock);
        }
        return lock.withPermits(1)(effect);
      });

    const runTraffic = (
      name: "promote" | "rollback",
      operation: ProjectOperation,
      apply: Effect.Effect<TrafficResult, PreconditionFailed | NotFound, ApplyServices>,
    ) => {
      const run = Ref.getAndSet(pendingChange, Option.none()).pipe(
        Effect.flatMap(Option.match({ onNone: () => Effect.void, onSome: (change) => change })),
        Effect.zipRight(apply),
        Effect.provide(services),
      );
      const key = operation.idempotencyKey;
      if (key === undefined) return serialized(operation.projectId, run);
      const cacheKey = `${name}/${operation.projectId}/${key}`;
      return serialized(
        operation.projectId,
        Ref.get(outcomes).pipe(
          Effect.flatMap((known) => {
            const first = known.get(cacheKey);
            if (first !== undefined) return first;
            return Effect.exit(run).pipe(
              Effect.tap((exit) => Ref.update(outcomes, (all) => put(all, cacheKey, exit))),
              Effect.flatten,
            );
          }),
        ),
      );
    };

    const engine = WorkflowEngine.of({
      startDeploy: (operation) =>
        receive({ _tag: "startDeploy", operation }).pipe(
          Effect.zipRight(
            Ref.modify(
              invocations,
              (all): [{ readonly invocationId: string }, ReadonlyMap<DeploymentId, string>] => {
                const known = all.get(operation.deploymentId);
                if (known !== undefined) return [{ invocationId: known }, all];
                const invocationId = `inv_${all.size + 1}`;
                return [{ invocationId }, put(all, operation.deploymentId, invocationId)];
              },
            ),
          ),
        ),
      promote: (operation) =>
        receive({ _tag: "promote", operation }).pipe(
          Effect.zipRight(
            answer(
              "promote",
              runTraffic(
                "promote",
                operation,
                applyPromote(operation, operation.targetDeploymentId),
              ),
            ),
          ),
        ),
      rollback: (operation) =>
        receive({ _tag: "rollback", operation }).pipe(
          Effect.zipRight(
            answer(
              "rollback",
              runTraffic(
                "rollback",
                operation,
                applyRollback(
                  operation,
                  operation.sourceDeploymentId,
                  operation.targetDeploymentId,
                ),
              ),
            ),
          ),
        ),
      // Restate answers 404/409 for an invocation it no longer has: "gone".
      cancel: (invocationId) =>
        receive({ _tag: "cancel", invocationId }).pipe(
          Effect.zipRight(Ref.get(invocations)),
          Effect.zipWith(Ref.get(ended), (all, gone) =>
            [...all.values()].includes(invocationId) && !gone.has(invocationId)
              ? ("cancelling" as const)
              : ("gone" as const),
          ),
        ),
    });

    const control = WorkflowEngineControl.of({
      calls: Ref.get(calls),
      setUnavailable: (reason, operations = ALL_OPERATIONS) =>
        Ref.update(unavailable, (current) => withReason(current, operations, reason)),
      beforeNextApply: (change) => Ref.set(pendingChange, Option.some(change)),
      setTimingOut: (reason, operations = ["promote", "rollback"]) =>
        Ref.update(timingOut, (current) => withReason(current, operations, reason)),
      endInvocation: (invocationId) =>
        Ref.update(ended, (gone) => new Set([...gone, invocationId])),
    });

    return Context.make(WorkflowEngine, engine).pipe(Context.add(WorkflowEngineControl, control));
  }),
);

// ---------------------------------------------------------------------------
// Everything together

/**
 * Every repository, the event log and its feed, and build storage, on one store. Needs
 * InMemoryStore and Ids.
 */
export const InMemoryRepositories = Layer.mergeAll(
  InMemoryWorkspaceRepository,
  InMemoryApiKeyRepository,
  InMemoryProjectRepository,
  InMemoryEnvironmentRepository,
  InMemoryEnvironmentVariableRepository,
  InMemoryDeploymentRepository,
  InMemoryRouteRepository,
  InMemoryEventLog,
  InMemoryDeploymentEventFeed,
  InMemoryBuildStorage,
);

/**
 * Every port in memory, with TestPlatform, TestBuildContextLimits, Ids.layer,
 * the store and the workflow engine's control. Fresh state each time it is built.
 */
export const InMemoryLayer = InMemoryWorkflowEngine.pipe(
  Layer.provideMerge(Layer.mergeAll(InMemoryRepositories, TestPlatform, TestBuildContextLimits)),
  Layer.provideMerge(Layer.mergeAll(InMemoryStore.layer, Ids.layer)),
);
