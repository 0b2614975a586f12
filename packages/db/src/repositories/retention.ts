/**
 * RetentionRepository on Prisma: the facts of decideRetention read in one statement per page,
 * and the compare-and-set mark of removed artifacts. The mark leaves `updated_at` alone (it is
 * when the deployment reached its status, which the retention period counts from).
 */
import {
  type DeploymentId,
  type DeploymentStatus,
  KEEP_READY_PER_ENVIRONMENT,
  type RetentionFacts,
  RetentionRepository,
} from "@ferry/domain";
import { Effect, Layer, Option } from "effect";
import { Prisma } from "../generated/prisma/client.ts";
import { Db, query, toDate } from "./prisma.ts";

interface FactsRow {
  readonly id: string;
  readonly project_id: string;
  readonly environment_id: string;
  readonly status: DeploymentStatus;
  readonly source_kind: "BUILD_CONTEXT" | "DOCKER_IMAGE";
  readonly build_context_path: string | null;
  readonly image: string | null;
  readonly updated_at: Date;
  readonly artifacts_removed_at: Date | null;
  readonly is_live: boolean;
  readonly traffic_routes: number;
  readonly active_instances: number;
  readonly newer_ready: number;
  readonly superseded_at: Date | null;
}

const toFacts = (row: FactsRow): RetentionFacts => ({
  id: row.id,
  projectId: row.project_id,
  environmentId: row.environment_id,
  status: row.status,
  source: row.source_kind,
  buildContextPath: row.build_context_path ?? undefined,
  image: row.image ?? undefined,
  finishedAt: row.updated_at.getTime(),
  supersededAt: row.superseded_at?.getTime(),
  artifactsRemovedAt: row.artifacts_removed_at?.getTime(),
  isLive: row.is_live,
  trafficRoutes: Number(row.traffic_routes),
  activeInstances: Number(row.active_instances),
  newerReadyInEnvironment: Number(row.newer_ready),
});

/**
 * Every fact of the deployments `where` selects. Routes of kind DEPLOYMENT are not counted: a
 * deployment's own hostname always points at it (decideRetention's doc says why that is safe).
 * "Newer" is a greater id: ids sort by creation time. `kept` is the lateral row of the
 * KEEP_READY_PER_ENVIRONMENT-th newer READY: when it became READY (its `updated_at`), the
 * deployment left the kept ones. The newer-READY lookups use the (project, environment, status)
 * index.
 */
const selectFacts = (where: Prisma.Sql, tail: Prisma.Sql = Prisma.empty) => Prisma.sql`
  SELECT d."id", d."project_id", d."environment_id", d."status"::text AS "status",
         d."source_kind"::text AS "source_kind", d."build_context_path", d."image",
         d."updated_at", d."artifacts_removed_at",
         (p."live_deployment_id" IS NOT DISTINCT FROM d."id") AS "is_live",
         (SELECT count(*)::int FROM "frontline_routes" r
           WHERE r."deployment_id" = d."id" AND r."kind" <> 'DEPLOYMENT') AS "traffic_routes",
         (SELECT count(*)::int FROM "instances" i
           WHERE i."deployment_id" = d."id" AND i."status" IN ('STARTING', 'RUNNING')) AS "active_instances",
         (SELECT count(*)::int FROM "deployments" n
           WHERE n."project_id" = d."project_id" AND n."environment_id" = d."environment_id"
             AND n."status" = 'READY' AND n."id" > d."id") AS "newer_ready",
         kept."updated_at" AS "superseded_at"
  FROM "deployments" d JOIN "projects" p ON p."id" = d."project_id"
  LEFT JOIN LATERAL (
    SELECT n."updated_at" FROM "deployments" n
     WHERE n."project_id" = d."project_id" AND n."environment_id" = d."environment_id"
       AND n."status" = 'READY' AND n."id" > d."id"
     ORDER BY n."id" OFFSET ${KEEP_READY_PER_ENVIRONMENT - 1} LIMIT 1
  ) kept ON true
  WHERE ${where}
  ${tail}`;

/**
 * What decideRetention would remove at `unneededBefore` with no period left, in SQL, so that
 * the deployments it keeps (the newest READY, live, routed, running ones) are never listed.
 * A READY one without `kept` (fewer newer READY) compares NULL: not listed.
 */
const removable = (unneededBefore: number) => Prisma.sql`
  d."status" IN ('READY', 'FAILED', 'CANCELLED', 'SUPERSEDED')
  AND d."source_kind" = 'BUILD_CONTEXT'
  AND d."artifacts_removed_at" IS NULL
  AND p."live_deployment_id" IS DISTINCT FROM d."id"
  AND NOT EXISTS (SELECT 1 FROM "frontline_routes" r
    WHERE r."deployment_id" = d."id" AND r."kind" <> 'DEPLOYMENT')
  AND NOT EXISTS (SELECT 1 FROM "instances" i
    WHERE i."deployment_id" = d."id" AND i."status" IN ('STARTING', 'RUNNING'))
  AND (CASE WHEN d."status" = 'READY' THEN kept."updated_at" ELSE d."updated_at" END)
    < ${toDate(unneededBefore)}`;

export const RetentionRepositoryLive = Layer.effect(
  RetentionRepository,
  Effect.map(Db, (db) =>
    RetentionRepository.of({
      listCandidates: (q) =>
        query(() =>
          db.$queryRaw<Array<FactsRow>>(
            selectFacts(
              Prisma.sql`${removable(q.unneededBefore)} AND d."id" > ${q.afterId}`,
              Prisma.sql`ORDER BY d."id" LIMIT ${q.limit}`,
            ),
          ),
        ).pipe(Effect.map((rows) => rows.map(toFacts))),
      findFacts: (id: DeploymentId) =>
        query(() => db.$queryRaw<Array<FactsRow>>(selectFacts(Prisma.sql`d."id" = ${id}`))).pipe(
          Effect.map((rows) => Option.map(Option.fromNullable(rows[0]), toFacts)),
        ),
      countContextHolders: (key, exceptId) =>
        query(() =>
          db.deployment.count({
            where: { buildContextPath: key, id: { not: exceptId }, artifactsRemovedAt: null },
          }),
        ),
      referencedContextKeys: (keys) =>
        keys.length === 0
          ? Effect.succeed([])
          : query(
              () =>
                db.$queryRaw<Array<{ readonly key: string }>>`
                SELECT DISTINCT "build_context_path" AS "key" FROM "deployments"
                 WHERE "build_context_path" = ANY(${[...keys]}::text[])`,
            ).pipe(Effect.map((rows) => rows.map((row) => row.key))),
      markArtifactsRemoved: (id, at) =>
        query(
          () =>
            db.$executeRaw`UPDATE "deployments" SET "artifacts_removed_at" = ${toDate(at)}
              WHERE "id" = ${id} AND "artifacts_removed_at" IS NULL`,
        ).pipe(Effect.map((count) => count > 0)),
    }),
  ),
);
