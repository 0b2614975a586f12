/**
 * A ctrl on in-memory ports (@ferry/domain/testing) with two workspaces and
 * their API keys, and clients generated from the proto, connected through
 * Connect's in-memory router transport: the same routes and interceptors as
 * the real server, without a socket.
 */
import {
  type Client,
  Code,
  ConnectError,
  createClient,
  createRouterTransport,
  type Interceptor,
  type Transport,
} from "@connectrpc/connect";
import { DeploymentService, ProjectService } from "@ferry/api";
import type { Workspace } from "@ferry/domain";
import {
  InMemoryLayer,
  type InMemoryStore,
  type WorkflowEngineControl,
} from "@ferry/domain/testing";
import { generateKey, layer as secretBoxLayer } from "@ferry/secret-box";
import { Effect, Layer, type ManagedRuntime } from "effect";
import { expect } from "vitest";
import { type Ctrl, makeCtrl } from "../src/app.ts";
import { createWorkspace, issueApiKey } from "../src/auth.ts";
import { memoryLog } from "../src/log.ts";
import { type CtrlServices, makeRuntime } from "../src/runtime.ts";

export type WorldServices = CtrlServices | WorkflowEngineControl | InMemoryStore;
export type WorldLayer = Layer.Layer<WorldServices>;

/** Every port in memory, and a SecretBox with a fresh key. */
export const inMemoryWorld = (): WorldLayer =>
  Layer.merge(InMemoryLayer, secretBoxLayer(generateKey("test")));

export interface Tenant {
  readonly workspace: Workspace;
  readonly token: string;
}

export interface World {
  readonly runtime: ManagedRuntime.ManagedRuntime<WorldServices, never>;
  readonly ctrl: Ctrl;
  readonly log: ReturnType<typeof memoryLog>;
  readonly acme: Tenant;
  readonly globex: Tenant;
  /** Runs an Effect on the world's services (to seed or inspect state). */
  readonly run: <A, E>(effect: Effect.Effect<A, E, WorldServices>) => Promise<A>;
  /** A transport sending `authorization` as given (a token → `Bearer <token>`; null → none). */
  readonly transport: (
    auth: { readonly token?: string; readonly header?: string } | null,
  ) => Transport;
  readonly clients: (token: string) => {
    readonly deployments: Client<typeof DeploymentService>;
    readonly projects: Client<typeof ProjectService>;
  };
  readonly dispose: () => Promise<void>;
}

/** A client interceptor that sets the Authorization header. */
export const authorization =
  (value: string): Interceptor =>
  (next) =>
  async (request) => {
    request.header.set("authorization", value);
    return await next(request);
  };

export const tenant = (slug: string) =>
  Effect.gen(function* () {
    const workspace = yield* createWorkspace({ name: slug.toUpperCase(), slug });
    const key = yield* issueApiKey(workspace.id, `${slug} key`);
    return { workspace, token: key.token } satisfies Tenant;
  });

export async function makeWorld(layer: WorldLayer = inMemoryWorld()): Promise<World> {
  const log = memoryLog();
  const runtime = makeRuntime(layer, log);
  const ctrl = makeCtrl({ runtime, log });
  const run = <A, E>(effect: Effect.Effect<A, E, WorldServices>) => runtime.runPromise(effect);
  const acme = await run(tenant("acme"));
  const globex = await run(tenant("globex"));
  const transport: World["transport"] = (auth) =>
    createRouterTransport(ctrl.routes, {
      router: { interceptors: ctrl.interceptors },
      transport: {
        interceptors:
          auth === null ? [] : [authorization(auth.header ?? `Bearer ${auth.token ?? ""}`)],
      },
    });
  return {
    runtime,
    ctrl,
    log,
    acme,
    globex,
    run,
    transport,
    clients: (token) => ({
      deployments: createClient(DeploymentService, transport({ token })),
      projects: createClient(ProjectService, transport({ token })),
    }),
    dispose: () => runtime.dispose(),
  };
}

/** The ConnectError a call rejected with (fails the test when it resolved). */
export async function rejection(call: Promise<unknown>): Promise<ConnectError> {
  try {
    await call;
  } catch (error) {
    expect(error).toBeInstanceOf(ConnectError);
    return error as ConnectError;
  }
  throw new Error("expected the call to fail, but it succeeded");
}

/** Asserts the code and the exact message (without Connect's "[code] " prefix). */
export async function expectError(
  call: Promise<unknown>,
  code: Code,
  message: string | RegExp,
): Promise<ConnectError> {
  const error = await rejection(call);
  expect({ code: Code[error.code], message: error.rawMessage }).toEqual({
    code: Code[code],
    message: typeof message === "string" ? message : expect.stringMatching(message),
  });
  return error;
}

/** A well-formed id that names nothing. */
export const MISSING_DEPLOYMENT = "dep_01jdz8x4m3q7r2v5w9y0abcdef";
export const MISSING_PROJECT = "prj_01jdz8x4m3q7r2v5w9y0abcdef";
