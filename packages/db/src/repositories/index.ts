/** Prisma implementations of the domain's repository ports, and one Layer with all of them. */
import { Layer } from "effect";
import { DeploymentRepositoryLive } from "./deployments.ts";
import { EventLogLive } from "./events.ts";
import { InstanceRepositoryLive } from "./instances.ts";
import { EnvironmentRepositoryLive, ProjectRepositoryLive } from "./projects.ts";
import { RetentionRepositoryLive } from "./retention.ts";
import { RouteRepositoryLive } from "./routes.ts";
import { EnvironmentVariableRepositoryLive } from "./variables.ts";
import { ApiKeyRepositoryLive, WorkspaceRepositoryLive } from "./workspaces.ts";

export { DeploymentRepositoryLive } from "./deployments.ts";
export { EventLogLive, makeEventLogLive } from "./events.ts";
export { InstanceRepositoryLive, toInstance } from "./instances.ts";
export { Db, type DbClient } from "./prisma.ts";
export { EnvironmentRepositoryLive, ProjectRepositoryLive } from "./projects.ts";
export { RetentionRepositoryLive } from "./retention.ts";
export { RouteRepositoryLive } from "./routes.ts";
export { EnvironmentVariableRepositoryLive } from "./variables.ts";
export { ApiKeyRepositoryLive, WorkspaceRepositoryLive } from "./workspaces.ts";

/** Every repository; needs `Db` (and `Ids` for the routes it creates). */
export const RepositoriesLive = Layer.mergeAll(
  WorkspaceRepositoryLive,
  ApiKeyRepositoryLive,
  ProjectRepositoryLive,
  EnvironmentRepositoryLive,
  EnvironmentVariableRepositoryLive,
  DeploymentRepositoryLive,
  RouteRepositoryLive,
  EventLogLive,
  InstanceRepositoryLive,
  RetentionRepositoryLive,
);
