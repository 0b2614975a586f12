/**
 * The gateway's view of routing: each hostname with the addresses of its deployment's running
 * instances. Read by ctrl's route feed (at start, after a resync, and for the hostnames and
 * deployments that a notification names); never by the public API, which does not show
 * internal addresses.
 */
import type { PrismaClient } from "./generated/prisma/client.ts";

export interface FrontlineUpstream {
  /** `host:port` of the instance's published port. */
  readonly address: string;
  readonly region: string;
}

export interface FrontlineRouteEntry {
  readonly hostname: string;
  readonly deploymentId: string;
  readonly projectId: string;
  /** RUNNING instances with a published port, by region then age. */
  readonly upstreams: ReadonlyArray<FrontlineUpstream>;
}

/** Which routes to read: all of them, or those of these hostnames or deployments. */
export type FrontlineRouteScope =
  | { readonly all: true }
  | {
      readonly hostnames: ReadonlyArray<string>;
      readonly deploymentIds: ReadonlyArray<string>;
    };

const addressOf = (host: string, port: number) =>
  host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;

export const loadFrontlineRoutes = async (
  prisma: PrismaClient,
  scope: FrontlineRouteScope,
): Promise<FrontlineRouteEntry[]> => {
  const where =
    "all" in scope
      ? {}
      : {
          OR: [
            { hostname: { in: [...scope.hostnames] } },
            { deploymentId: { in: [...scope.deploymentIds] } },
          ],
        };
  // Prisma may read routes and instances in two statements; a change committed between them
  // is not lost: it sent a notification of its own, which causes another read.
  const rows = await prisma.frontlineRoute.findMany({
    where,
    select: {
      hostname: true,
      deploymentId: true,
      projectId: true,
      deployment: {
        select: {
          instances: {
            where: { status: "RUNNING", port: { not: null } },
            select: { host: true, port: true, region: true },
            orderBy: [{ region: "asc" }, { createdAt: "asc" }],
          },
        },
      },
    },
  });
  return rows.map((row) => ({
    hostname: row.hostname,
    deploymentId: row.deploymentId,
    projectId: row.projectId,
    upstreams: row.deployment.instances.flatMap((instance) =>
      instance.port === null
        ? []
        : [{ address: addressOf(instance.host, instance.port), region: instance.region }],
    ),
  }));
};
