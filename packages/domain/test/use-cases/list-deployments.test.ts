import { describe, expect, it } from "@effect/vitest";
import { Effect } from "effect";
import {
  createDeployment,
  type DeploymentId,
  DeploymentRepository,
  encodePageToken,
  Ids,
  type ListDeploymentsRequest,
  listDeployments,
} from "../../src/index.ts";
import { deployImage, seed, type Tenant, TestLayer, tick } from "./fixtures.ts";

/** Creates `count` production deployments of acme's project, oldest first. */
const deployMany = (tenant: Tenant, count: number) =>
  Effect.forEach(
    Array.from({ length: count }, (_, i) => i + 1),
    (n) => deployImage(tenant, `localhost/web:${n}`),
  );

const ids = (page: { readonly deployments: ReadonlyArray<{ readonly id: DeploymentId }> }) =>
  page.deployments.map((d) => d.id);

const validationViolations = (error: { readonly _tag: string }) =>
  "violations" in error ? error.violations : error;

describe("listDeployments", () => {
  it.effect("lists a project's deployments newest first, in one page when they fit", () =>
    Effect.gen(function* () {
      const { acme, globex } = yield* seed;
      const [d1, d2, d3] = yield* deployMany(acme, 3);
      yield* deployImage(globex, "localhost/api:1");
      const page = yield* listDeployments(acme.workspace.id, { projectId: acme.project.id });
      expect(ids(page)).toStrictEqual([d3, d2, d1]);
      expect(page.nextPageToken).toBe("");
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("pages through every deployment once, without gaps or duplicates", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const created = yield* deployMany(acme, 7);
      const pages: Array<ReadonlyArray<DeploymentId>> = [];
      const tokens: Array<string> = [];
      let pageToken = "";
      do {
        const page = yield* listDeployments(acme.workspace.id, {
          projectId: acme.project.id,
          pageSize: 3,
          pageToken,
        });
        pages.push(ids(page));
        tokens.push(page.nextPageToken);
        pageToken = page.nextPageToken;
      } while (pageToken !== "" && pages.length < 10);
      const newestFirst = [...created].reverse();
      expect(pages).toStrictEqual([
        newestFirst.slice(0, 3),
        newestFirst.slice(3, 6),
        newestFirst.slice(6),
      ]);
      expect(tokens.map((t) => t !== "")).toStrictEqual([true, true, false]);
      expect(tokens[0]).toBe(encodePageToken(newestFirst[2] ?? ""));
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("ends without an empty last page when the count is a multiple of the page size", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const created = [...(yield* deployMany(acme, 4))].reverse();
      const first = yield* listDeployments(acme.workspace.id, {
        projectId: acme.project.id,
        pageSize: 2,
      });
      const second = yield* listDeployments(acme.workspace.id, {
        projectId: acme.project.id,
        pageSize: 2,
        pageToken: first.nextPageToken,
      });
      expect([ids(first), ids(second)]).toStrictEqual([created.slice(0, 2), created.slice(2)]);
      expect(second.nextPageToken).toBe("");
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("does not let a deployment created between pages shift the next page", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const [d1, d2, d3] = yield* deployMany(acme, 3);
      const first = yield* listDeployments(acme.workspace.id, {
        projectId: acme.project.id,
        pageSize: 2,
      });
      yield* deployImage(acme, "localhost/web:4");
      const second = yield* listDeployments(acme.workspace.id, {
        projectId: acme.project.id,
        pageSize: 2,
        pageToken: first.nextPageToken,
      });
      expect([ids(first), ids(second)]).toStrictEqual([[d3, d2], [d1]]);
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("filters by environment and by status", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const [p1, p2, p3] = yield* deployMany(acme, 3);
      yield* tick;
      const preview = yield* createDeployment(acme.workspace.id, {
        projectId: acme.project.id,
        environmentSlug: "preview",
        source: { _tag: "DockerImage", image: "localhost/web:pr-7" },
      });
      const deployments = yield* DeploymentRepository;
      yield* deployments.updateStatus(p1 as DeploymentId, {
        from: ["PENDING"],
        to: "READY",
        at: 0,
      });
      yield* deployments.updateStatus(p2 as DeploymentId, {
        from: ["PENDING"],
        to: "FAILED",
        at: 0,
      });
      yield* deployments.updateStatus(preview.deploymentId, {
        from: ["PENDING"],
        to: "READY",
        at: 0,
      });
      const list = (request: Omit<ListDeploymentsRequest, "projectId">) =>
        listDeployments(acme.workspace.id, { projectId: acme.project.id, ...request }).pipe(
          Effect.map(ids),
        );

      expect(yield* list({ environmentSlug: "preview" })).toStrictEqual([preview.deploymentId]);
      expect(yield* list({ environmentSlug: "production" })).toStrictEqual([p3, p2, p1]);
      expect(yield* list({ environmentSlug: "" })).toStrictEqual([
        preview.deploymentId,
        p3,
        p2,
        p1,
      ]);
      expect(yield* list({ statuses: ["READY"] })).toStrictEqual([preview.deploymentId, p1]);
      expect(yield* list({ statuses: ["READY", "FAILED"] })).toStrictEqual([
        preview.deploymentId,
        p2,
        p1,
      ]);
      expect(yield* list({ statuses: ["READY"], environmentSlug: "production" })).toStrictEqual([
        p1,
      ]);
      expect(yield* list({ statuses: [] })).toStrictEqual([preview.deploymentId, p3, p2, p1]);
      expect(yield* list({ statuses: ["SUPERSEDED"] })).toStrictEqual([]);
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("refuses a page token it did not make", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      for (const pageToken of ["garbage", "1zz", "2", encodePageToken(acme.project.id)]) {
        const error = yield* Effect.flip(
          listDeployments(acme.workspace.id, { projectId: acme.project.id, pageToken }),
        );
        expect(validationViolations(error)).toStrictEqual([
          { field: "page_token", message: "is not a token returned by ListDeployments" },
        ]);
      }
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("accepts page sizes up to 200 and refuses larger, negative or fractional ones", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      yield* deployMany(acme, 1);
      for (const pageSize of [0, 1, 200]) {
        const page = yield* listDeployments(acme.workspace.id, {
          projectId: acme.project.id,
          pageSize,
        });
        expect(page.deployments).toHaveLength(1);
      }
      for (const pageSize of [201, -1, 2.5]) {
        const error = yield* Effect.flip(
          listDeployments(acme.workspace.id, { projectId: acme.project.id, pageSize }),
        );
        expect(validationViolations(error)).toStrictEqual([
          { field: "page_size", message: "must be an integer from 1 to 200 (0 means 50)" },
        ]);
      }
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("uses a page of 50 when no size is given", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const created = yield* deployMany(acme, 51);
      const page = yield* listDeployments(acme.workspace.id, { projectId: acme.project.id });
      expect(page.deployments).toHaveLength(50);
      expect(page.deployments.at(-1)?.id).toBe(created[1]);
      expect(page.nextPageToken).toBe(encodePageToken(created[1] ?? ""));
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect(
    "answers NotFound for an unknown project, another workspace's project and an unknown environment",
    () =>
      Effect.gen(function* () {
        const { acme, globex } = yield* seed;
        const unknown = yield* (yield* Ids).next("project");
        expect(
          yield* Effect.flip(listDeployments(acme.workspace.id, { projectId: unknown })),
        ).toMatchObject({ _tag: "NotFound", resource: "project", id: unknown });
        expect(
          yield* Effect.flip(listDeployments(acme.workspace.id, { projectId: globex.project.id })),
        ).toMatchObject({ _tag: "NotFound", resource: "project", id: globex.project.id });
        expect(
          yield* Effect.flip(
            listDeployments(acme.workspace.id, {
              projectId: acme.project.id,
              environmentSlug: "staging",
            }),
          ),
        ).toMatchObject({ _tag: "NotFound", resource: "environment", id: "staging" });
      }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("answers ValidationError for a malformed project id or an unknown status", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const malformed = yield* Effect.flip(
        listDeployments(acme.workspace.id, { projectId: "web" }),
      );
      expect(validationViolations(malformed)).toStrictEqual([
        { field: "project_id", message: '"web" is not a well-formed id for this field' },
      ]);
      const status = yield* Effect.flip(
        listDeployments(acme.workspace.id, { projectId: acme.project.id, statuses: ["DONE"] }),
      );
      expect(validationViolations(status)).toStrictEqual([
        {
          field: "statuses[0]",
          message:
            '"DONE" is not a deployment status; must be one of PENDING, BUILDING, DEPLOYING, NETWORK, READY, FAILED, CANCELLED, SUPERSEDED',
        },
      ]);
    }).pipe(Effect.provide(TestLayer)),
  );
});
