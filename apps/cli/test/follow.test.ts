/**
 * followDeployment's reconnects, against an in-memory DeploymentService (the unit under test
 * is the client's loop; the real stream is covered by cli-stack.test.ts): a stream dropped with
 * Unavailable is resumed with the last cursor, nothing is repeated or missed; a refusal is not
 * retried.
 */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import {
  DeploymentSchema,
  DeploymentService,
  DeploymentStatus,
  ProjectService,
  type WatchDeploymentResponse,
  WatchDeploymentResponseSchema,
} from "@ferry/api";
import { describe, expect, it } from "vitest";
import type { Api } from "../src/api.ts";
import { followDeployment } from "../src/deploy/follow.ts";

const statusEvent = (cursor: string, status: DeploymentStatus) =>
  create(WatchDeploymentResponseSchema, {
    cursor,
    event: { case: "status", value: { status } },
  });

const logEvent = (cursor: string, text: string) =>
  create(WatchDeploymentResponseSchema, {
    cursor,
    event: { case: "log", value: { step: "BUILDING", text } },
  });

const EVENTS = [
  statusEvent("c1", DeploymentStatus.PENDING),
  logEvent("c2", "one"),
  logEvent("c3", "two"),
  statusEvent("c4", DeploymentStatus.READY),
];

/** A server whose first `drops` streams end with Unavailable after two events. */
const fakeApi = (options: { drops: number; refuse?: Code }) => {
  const cursors: Array<string> = [];
  let calls = 0;
  const transport = createRouterTransport((router) => {
    router.service(DeploymentService, {
      async *watchDeployment(request) {
        cursors.push(request.afterCursor);
        if (options.refuse !== undefined)
          throw new ConnectError("no such deployment", options.refuse);
        const start = EVENTS.findIndex((event) => event.cursor === request.afterCursor) + 1;
        const dropping = calls++ < options.drops;
        let sent = 0;
        for (const event of EVENTS.slice(start)) {
          if (dropping && sent === 2)
            throw new ConnectError("server shutting down", Code.Unavailable);
          yield event;
          sent++;
        }
      },
      getDeployment: (request) => ({
        deployment: create(DeploymentSchema, {
          id: request.deploymentId,
          status: DeploymentStatus.READY,
        }),
      }),
    });
  });
  const api: Api = {
    projects: createClient(ProjectService, transport),
    deployments: createClient(DeploymentService, transport),
    apiUrl: "memory://",
  };
  return { api, cursors };
};

describe("followDeployment", () => {
  it("resumes a dropped stream after the last cursor: every event once, in order", async () => {
    const { api, cursors } = fakeApi({ drops: 1 });
    const seen: Array<WatchDeploymentResponse> = [];
    const deployment = await followDeployment(api, "dep_1", (event) => seen.push(event));
    expect(seen.map((event) => event.cursor)).toEqual(["c1", "c2", "c3", "c4"]);
    expect(cursors).toEqual(["", "c2"]);
    expect(deployment.status).toBe(DeploymentStatus.READY);
  });

  it("gives up after maxReconnects consecutive drops without progress", async () => {
    const { api } = fakeApi({ drops: 100, refuse: Code.Unavailable });
    const error = await followDeployment(api, "dep_1", () => undefined, { maxReconnects: 2 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.Unavailable);
  });

  it("does not retry a refusal", async () => {
    const { api, cursors } = fakeApi({ drops: 0, refuse: Code.NotFound });
    const error = await followDeployment(api, "dep_1", () => undefined).catch((e: unknown) => e);
    expect((error as ConnectError).code).toBe(Code.NotFound);
    expect(cursors).toEqual([""]);
  });
});
