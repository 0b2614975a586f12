/**
 * The domain's WorkflowEngine port over Restate: the ingress (HTTP) for deploy, promote and
 * rollback, the admin API for cancel. See contract.ts for the object being called.
 *
 * How failures surface:
 *
 * | what happened                                                  | result                   |
 * | -------------------------------------------------------------- | ------------------------ |
 * | handler answered `{ ok: true }`                                | TrafficResult            |
 * | handler answered a refusal `PreconditionFailed` / `NotFound`   | that domain error        |
 * | ingress unreachable, timed out, 408/425/429/5xx from Restate   | WorkflowUnavailable      |
 * | Restate does not know `project/<handler>` (404: not registered) | WorkflowUnavailable      |
 * | the handler failed (TerminalError, killed, cancelled)          | defect (Internal)        |
 * | any other 4xx, or an answer that breaks the contract           | defect (Internal)        |
 *
 * Why a failed handler is a defect and not WorkflowUnavailable: the contract makes every
 * expected refusal data, so a handler that throws means the workflow itself is broken (or an
 * operator cancelled it). "Unavailable" tells the client to retry later, which cannot help,
 * and would hide the bug. Only "we could not get an answer from Restate" is Unavailable.
 * Restate tells the two apart since 1.7 with `source: "invocation" | "ingress"` in the
 * error body (and the `x-restate-error-source` header).
 *
 * Idempotency keys (Restate scopes them per object key and handler, kept 1 day by default):
 * - deploy: the deployment id; a repeated send answers the first invocation id
 *   ("PreviouslyAccepted") and starts nothing.
 * - promote / rollback: `<workspaceId>:<operation>:<key>` when the operation has one, so keys
 *   chosen by clients of different workspaces never meet. The domain's use cases always pass
 *   one (the client's, or a generated `ferry-<ulid>` that the Unavailable answer names), so a
 *   call that timed out while queued can be retried without queuing a second operation. A
 *   repeat while the first call runs attaches to it; after it, answers its result. Restate does
 *   not compare payloads: a reused key with another target answers the first result.
 *
 * Keyed calls are retried by the client on network errors and transient statuses (at most 3
 * attempts, all within `requestTimeoutMs`); calls without a key are never retried, since a retry
 * could run them twice.
 *
 * Messages carry the Restate URL (without credentials), the target and Restate's own error
 * message: never a stack trace (Restate forwards the handler's for retryable errors) nor a
 * payload.
 */
import {
  DeploymentId,
  NotFound,
  PreconditionFailed,
  type ProjectOperation,
  ResourceKind,
  type TrafficResult,
  WorkflowEngine,
  WorkflowUnavailable,
} from "@ferry/domain";
import * as clients from "@restatedev/restate-sdk-clients";
import { Effect, Either, Layer, Option, Schema } from "effect";
import {
  DEPLOYS_OBJECT,
  type DeploysObjectDefinition,
  deploysObjectDefinition,
  PROJECT_OBJECT,
  type ProjectObjectDefinition,
  projectObjectDefinition,
  type TrafficOutcome,
} from "./contract.ts";

const HttpUrl = Schema.String.pipe(
  Schema.filter((value) => {
    try {
      const url = new URL(value);
      return url.protocol === "http:" || url.protocol === "https:"
        ? undefined
        : "must be an http:// or https:// URL";
    } catch {
      return "must be an absolute URL";
    }
  }),
);

/** What the engine needs; decode it in the app's configuration module. */
export const RestateEngineConfig = Schema.Struct({
  /** Restate's ingress, e.g. `http://127.0.0.1:8080`. */
  ingressUrl: HttpUrl,
  /** Restate's admin API, e.g. `http://127.0.0.1:9070` (cancel). */
  adminUrl: HttpUrl,
  /**
   * Deadline of one engine call, retries included. For promote and rollback it bounds the wait
   * for the handler's answer, which includes waiting for the project's earlier operations:
   * the object runs one handler per project at a time.
   */
  requestTimeoutMs: Schema.Number.pipe(Schema.int(), Schema.positive()),
});
export type RestateEngineConfig = typeof RestateEngineConfig.Type;

/**
 * A defect: the call reached Restate but the workflow failed or broke the contract. Surfaces
 * as Internal at the API edge; its message is for logs.
 */
export class RestateWorkflowDefect extends Error {
  override readonly name = "RestateWorkflowDefect";
}

const TrafficOutcomeJson = Schema.Union(
  Schema.Struct({
    ok: Schema.Literal(true),
    result: Schema.Struct({
      liveDeploymentId: Schema.NullOr(DeploymentId),
      rolledBack: Schema.Boolean,
      changed: Schema.Boolean,
    }),
  }),
  Schema.Struct({
    ok: Schema.Literal(false),
    refusal: Schema.Union(
      Schema.Struct({ _tag: Schema.Literal("PreconditionFailed"), reason: Schema.String }),
      Schema.Struct({
        _tag: Schema.Literal("NotFound"),
        resource: Schema.String,
        id: Schema.String,
      }),
    ),
  }),
);
const decodeOutcome = Schema.decodeUnknownEither(TrafficOutcomeJson);
const decodeResource = Schema.decodeUnknownOption(ResourceKind);

/** The Restate error body: `{ code, message, source?, stacktrace? }` (stacktrace never shown). */
const ErrorBody = Schema.Struct({
  code: Schema.optional(Schema.Number),
  message: Schema.optional(Schema.String),
  source: Schema.optional(Schema.String),
});
const decodeErrorBody = Schema.decodeUnknownOption(Schema.parseJson(ErrorBody));

/** The URL as it may appear in a message: no user, no password, no query, no trailing slash. */
const displayUrl = (raw: string): string => {
  const url = new URL(raw);
  return `${url.protocol}//${url.host}${url.pathname}`.replace(/\/+$/, "");
};

const clip = (text: string, max = 300) => (text.length > max ? `${text.slice(0, max)}…` : text);

const networkCode = (error: unknown): string | undefined => {
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  return typeof cause?.code === "string" ? cause.code : undefined;
};

interface CallContext {
  /** e.g. `project/prj_…/promote`. */
  readonly target: string;
  /** The base URL that was called, as shown. */
  readonly url: string;
  readonly api: "ingress" | "admin API";
  readonly timeoutMs: number;
  /** Whether a repeat with the same key attaches to the invocation (keyed calls). */
  readonly keyed: boolean;
}

type Classified =
  | { readonly _tag: "Unavailable"; readonly reason: string }
  | { readonly _tag: "Defect"; readonly error: RestateWorkflowDefect };

const unavailable = (reason: string): Classified => ({ _tag: "Unavailable", reason });
const defect = (message: string): Classified => ({
  _tag: "Defect",
  error: new RestateWorkflowDefect(message),
});

/** Sorts a failure of a call to Restate into "could not get an answer" and "broken". */
const classify = (error: unknown, context: CallContext): Classified => {
  const where = `Restate ${context.api} at ${context.url}`;
  if (error instanceof Error && error.name === "TimeoutError")
    return unavailable(
      `${where} did not answer ${context.target} within ${context.timeoutMs} ms${
        context.keyed
          ? "; it may still complete, and a retry with the same idempotency key returns its result"
          : ""
      }`,
    );
  if (error instanceof Error && error.name === "AbortError")
    return unavailable(`the call to ${context.target} at ${where} was aborted`);
  if (error instanceof clients.HttpCallError) {
    const body: typeof ErrorBody.Type = Option.getOrElse(
      decodeErrorBody(error.responseText),
      () => ({}),
    );
    const said = clip(body.message ?? error.responseText.split("\n")[0] ?? "");
    if (body.source === "invocation")
      return defect(
        `the Restate handler ${context.target} failed (code ${body.code ?? error.status}): ${said}`,
      );
    if (error.status === 404)
      return unavailable(
        `${where} does not know ${context.target} (HTTP 404: ${said}); is the hydra deployment registered?`,
      );
    if ([408, 425, 429].includes(error.status) || error.status >= 500)
      return unavailable(`${where} answered HTTP ${error.status} for ${context.target}: ${said}`);
    return defect(`${where} rejected ${context.target} (HTTP ${error.status}): ${said}`);
  }
  if (error instanceof TypeError && error.message === "fetch failed")
    return unavailable(`${where} is unreachable (${networkCode(error) ?? "network error"})`);
  return defect(
    `calling ${context.target} at ${where} failed unexpectedly: ${
      error instanceof Error ? clip(error.message) : String(error)
    }`,
  );
};

/** Runs one call to Restate with the deadline; failures sorted by `classify`. */
const callRestate = <A>(
  context: CallContext,
  run: (signal: AbortSignal) => PromiseLike<A>,
): Effect.Effect<A, WorkflowUnavailable> =>
  Effect.tryPromise({
    try: (interrupted) =>
      Promise.resolve(run(AbortSignal.any([interrupted, AbortSignal.timeout(context.timeoutMs)]))),
    catch: (error) => classify(error, context),
  }).pipe(
    Effect.catchAll((failure: Classified) =>
      failure._tag === "Unavailable"
        ? Effect.fail(new WorkflowUnavailable({ reason: failure.reason }))
        : Effect.die(failure.error),
    ),
  );

const toTrafficResult = (
  outcome: unknown,
  target: string,
): Effect.Effect<TrafficResult, PreconditionFailed | NotFound> => {
  const decoded = decodeOutcome(outcome);
  if (Either.isLeft(decoded))
    return Effect.die(
      new RestateWorkflowDefect(
        `the Restate handler ${target} answered something that is not a TrafficOutcome`,
      ),
    );
  const value = decoded.right;
  if (value.ok)
    return Effect.succeed({
      liveDeploymentId: value.result.liveDeploymentId ?? undefined,
      rolledBack: value.result.rolledBack,
      changed: value.result.changed,
    });
  const refusal = value.refusal;
  if (refusal._tag === "PreconditionFailed")
    return Effect.fail(new PreconditionFailed({ reason: refusal.reason }));
  return Effect.fail(
    new NotFound({
      // An unknown kind is a contract drift in hydra; "deployment" is what promote and rollback
      // look up, and the id still says which one.
      resource: decodeResource(refusal.resource).pipe(
        Option.getOrElse(() => "deployment" as const),
      ),
      id: refusal.id,
    }),
  );
};

/** The WorkflowEngine over a Restate ingress and admin API. */
export const makeWorkflowEngine = (config: RestateEngineConfig): WorkflowEngine["Type"] => {
  const { ingressUrl, adminUrl, requestTimeoutMs } =
    Schema.decodeUnknownSync(RestateEngineConfig)(config);
  const ingressBase = ingressUrl.replace(/\/+$/, "");
  const adminBase = adminUrl.replace(/\/+$/, "");
  const shownIngress = displayUrl(ingressUrl);
  const shownAdmin = displayUrl(adminUrl);
  const ingress = clients.connect({
    url: ingressBase,
    // Applies only to calls with an idempotency key (the client's own rule); the deadline
    // signal of each call stops retries when it fires.
    retry: {
      maxAttempts: 3,
      initialInterval: 100,
      maxInterval: 1_000,
      maxDuration: requestTimeoutMs,
    },
  });

  const context = (
    projectId: string,
    handler: string,
    keyed: boolean,
    object: string = PROJECT_OBJECT,
  ): CallContext => ({
    target: `${object}/${projectId}/${handler}`,
    url: shownIngress,
    api: "ingress",
    timeoutMs: requestTimeoutMs,
    keyed,
  });

  const trafficKey = (workspaceId: string, operation: string, key: string | undefined) =>
    key === undefined ? undefined : `${workspaceId}:${operation}:${key}`;

  type ProjectClient = ReturnType<typeof ingress.objectClient<ProjectObjectDefinition>>;

  /** Promote and rollback: a keyed request/response call whose outcome maps to a TrafficResult. */
  const callTraffic = (
    operation: ProjectOperation,
    handler: "promote" | "rollback",
    send: (
      client: ProjectClient,
      options: { readonly signal: AbortSignal; readonly idempotencyKey?: string },
    ) => PromiseLike<TrafficOutcome>,
  ) => {
    const idempotencyKey = trafficKey(operation.workspaceId, handler, operation.idempotencyKey);
    const call = context(operation.projectId, handler, idempotencyKey !== undefined);
    return callRestate(call, (signal) =>
      send(
        ingress.objectClient<ProjectObjectDefinition>(projectObjectDefinition, operation.projectId),
        idempotencyKey === undefined ? { signal } : { idempotencyKey, signal },
      ),
    ).pipe(Effect.flatMap((outcome) => toTrafficResult(outcome, call.target)));
  };

  return WorkflowEngine.of({
    startDeploy: (operation) =>
      callRestate(context(operation.projectId, "deploy", true, DEPLOYS_OBJECT), (signal) =>
        ingress
          .objectSendClient<DeploysObjectDefinition>(deploysObjectDefinition, operation.projectId)
          .deploy(
            { workspaceId: operation.workspaceId, deploymentId: operation.deploymentId },
            clients.rpc.sendOpts({ idempotencyKey: operation.deploymentId, signal }),
          ),
      ).pipe(Effect.map((send) => ({ invocationId: send.invocationId }))),

    promote: (operation) =>
      callTraffic(operation, "promote", (client, options) =>
        client.promote(
          {
            workspaceId: operation.workspaceId,
            targetDeploymentId: operation.targetDeploymentId,
          },
          clients.rpc.opts(options),
        ),
      ),

    rollback: (operation) =>
      callTraffic(operation, "rollback", (client, options) =>
        client.rollback(
          {
            workspaceId: operation.workspaceId,
            sourceDeploymentId: operation.sourceDeploymentId,
            targetDeploymentId: operation.targetDeploymentId,
          },
          clients.rpc.opts(options),
        ),
      ),

    cancel: (invocationId) => {
      const target = `the cancel of invocation ${invocationId}`;
      return callRestate(
        { target, url: shownAdmin, api: "admin API", timeoutMs: requestTimeoutMs, keyed: false },
        async (signal) => {
          const response = await fetch(
            `${adminBase}/invocations/${encodeURIComponent(invocationId)}/cancel`,
            { method: "PATCH", signal },
          );
          const text = await response.text();
          // 200 cancelled, 202 cancellation accepted (the handler unwinds and compensates),
          // 404 unknown (never existed, or completed and purged), 409 already completed.
          if (response.status === 200 || response.status === 202) return "cancelling" as const;
          if (response.status === 404 || response.status === 409) return "gone" as const;
          throw new clients.HttpCallError(response.status, text, `HTTP ${response.status}`);
        },
      );
    },
  });
};

/** The WorkflowEngine layer; an invalid config is a defect when the layer is built. */
export const layer = (config: RestateEngineConfig): Layer.Layer<WorkflowEngine> =>
  Layer.sync(WorkflowEngine, () => makeWorkflowEngine(config));
