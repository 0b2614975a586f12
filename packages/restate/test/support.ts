/**
 * Test fixtures: a tiny implementation of the `project` object (the contract hydra implements),
 * steered per test through in-process maps, served over HTTP/2 on a random port; valid domain
 * ids; and a one-call harness that starts a real restate-server and registers the endpoint.
 */
import { randomInt } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import * as http2 from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeploymentId, ProjectId, WorkspaceId } from "@ferry/domain";
import * as restate from "@restatedev/restate-sdk";
import { Cause, Effect, Exit, Option } from "effect";
import type {
  DeployOutcome,
  DeployRequest,
  PromoteRequest,
  RollbackRequest,
  TrafficOutcome,
} from "../src/contract.ts";
import { DEPLOYS_OBJECT, PROJECT_OBJECT } from "../src/contract.ts";
import {
  type RestateServer,
  registerDeployment,
  type StartRestateServerOptions,
  startRestateServer,
} from "../src/server.ts";

const CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz";
const ulid = () => Array.from({ length: 26 }, () => CROCKFORD.charAt(randomInt(32))).join("");

export const newWorkspaceId = () => WorkspaceId.make(`ws_${ulid()}`);
export const newProjectId = () => ProjectId.make(`prj_${ulid()}`);
export const newDeploymentId = () => DeploymentId.make(`dep_${ulid()}`);

/** What the test object does when it sees a deployment id. */
export type TrafficPlan =
  | TrafficOutcome
  | { readonly terminal: string }
  | { readonly sleepMs: number };

export const fixture = {
  /** Executions of each handler's recorded step, by `<handler>:<deployment id>`. */
  runs: new Map<string, number>(),
  /** deploy: sleep (durably, ctx.sleep) this long before answering. */
  deploySleepMs: new Map<string, number>(),
  /** promote / rollback: by target deployment id; unplanned targets succeed. */
  traffic: new Map<string, TrafficPlan>(),
};

export const runsOf = (handler: string, deploymentId: string) =>
  fixture.runs.get(`${handler}:${deploymentId}`) ?? 0;

const record = (ctx: restate.ObjectContext, handler: string, deploymentId: string) =>
  ctx.run(`record ${handler}`, () => {
    const key = `${handler}:${deploymentId}`;
    fixture.runs.set(key, (fixture.runs.get(key) ?? 0) + 1);
  });

const traffic = async (
  ctx: restate.ObjectContext,
  handler: string,
  target: string,
): Promise<TrafficOutcome> => {
  await record(ctx, handler, target);
  const plan = fixture.traffic.get(target);
  if (plan !== undefined && "terminal" in plan) throw new restate.TerminalError(plan.terminal);
  if (plan !== undefined && "sleepMs" in plan) await ctx.sleep(plan.sleepMs);
  if (plan !== undefined && "ok" in plan) return plan;
  ctx.set("live", target);
  return {
    ok: true,
    result: { liveDeploymentId: target, rolledBack: handler === "rollback", changed: true },
  };
};

/** The `deploys` object as the tests need it (hydra's real one lives in apps/hydra). */
export const testDeploysObject = restate.object({
  name: DEPLOYS_OBJECT,
  handlers: {
    deploy: async (ctx: restate.ObjectContext, request: DeployRequest): Promise<DeployOutcome> => {
      await record(ctx, "deploy", request.deploymentId);
      const sleepMs = fixture.deploySleepMs.get(request.deploymentId);
      if (sleepMs !== undefined) await ctx.sleep(sleepMs);
      ctx.set("lastDeploy", request.deploymentId);
      return { deploymentId: request.deploymentId, status: "READY", errorMessage: null };
    },
  },
});

/** The `project` object as the tests need it (hydra's real one lives in apps/hydra). */
export const testProjectObject = restate.object({
  name: PROJECT_OBJECT,
  handlers: {
    promote: (ctx: restate.ObjectContext, request: PromoteRequest) =>
      traffic(ctx, "promote", request.targetDeploymentId),
    rollback: (ctx: restate.ObjectContext, request: RollbackRequest) =>
      traffic(ctx, "rollback", request.targetDeploymentId),
  },
});

export interface Endpoint {
  readonly url: string;
  readonly close: () => Promise<void>;
}

/** Serves the test object over HTTP/2 (cleartext, what Restate speaks) on a random port. */
export const serveTestEndpoint = async (port = 0): Promise<Endpoint> => {
  const server = http2.createServer(
    restate.createEndpointHandler({
      services: [testProjectObject, testDeploysObject],
      // The SDK logs every invocation at info; keep test output for failures.
      logger: () => {},
    }),
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const bound = typeof address === "object" && address !== null ? address.port : port;
  return {
    url: `http://127.0.0.1:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Restate keeps HTTP/2 connections open; close() alone would wait for them.
        setTimeout(resolve, 500).unref();
      }),
  };
};

export interface Harness {
  readonly server: RestateServer;
  readonly endpoint: Endpoint;
  readonly dispose: () => Promise<void>;
}

/** A restate-server in a temporary directory, the test endpoint, registered. */
export const startHarness = async (
  options: Omit<StartRestateServerOptions, "baseDir"> = {},
): Promise<Harness> => {
  const baseDir = mkdtempSync(join(tmpdir(), "ferry-restate-"));
  const server = await startRestateServer({
    baseDir,
    partitions: 2,
    rocksdbMemory: "256 MiB",
    ...options,
  });
  const endpoint = await serveTestEndpoint();
  await registerDeployment(server.adminUrl, endpoint.url);
  return {
    server,
    endpoint,
    dispose: async () => {
      await server.stop();
      await endpoint.close();
      rmSync(baseDir, { recursive: true, force: true });
    },
  };
};

/** Runs an effect to its Exit. */
export const exitOf = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromiseExit(effect);

/** The typed failure of an Exit, or undefined. */
export const failureOf = <A, E>(exit: Exit.Exit<A, E>): E | undefined =>
  Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined;

/** The defect of an Exit, or undefined. */
export const defectOf = <A, E>(exit: Exit.Exit<A, E>): unknown =>
  Exit.isFailure(exit) ? Option.getOrUndefined(Cause.dieOption(exit.cause)) : undefined;
