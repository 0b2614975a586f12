/** What every handler of hydra's objects does with its request: decode ids, refuse bad ones. */
import { DeploymentId, ProjectId, WorkspaceId } from "@ferry/domain";
import * as restate from "@restatedev/restate-sdk";
import { Either, Schema } from "effect";
import type { Logger } from "../log.ts";
import type { HydraRuntime } from "../services.ts";

/** What the objects are built with. */
export interface ObjectDeps {
  readonly runtime: HydraRuntime;
  readonly logger: Logger;
  /** Labels added to every container (and used to find them again). */
  readonly instanceLabels: Readonly<Record<string, string>>;
  /** How build contexts are built. */
  readonly build: BuildSettings;
}

export interface BuildSettings {
  /** Build jobs, one directory per deployment. */
  readonly jobsRoot: string;
  /** Downloaded build contexts, `<deploymentId>.tar.gz`. */
  readonly contextsDir: string;
  /** The largest archive built. */
  readonly maxArchiveBytes: number;
  /** A build running longer is stopped and fails the deployment. */
  readonly timeoutMs: number;
  /** Bound of each build's log file. */
  readonly maxLogBytes: number;
  /** The Docker Engine API the builds run on. */
  readonly engineUrl: string;
}

const decode =
  <A, I>(schema: Schema.Schema<A, I>) =>
  (value: unknown): A | undefined =>
    Either.getOrUndefined(Schema.decodeUnknownEither(schema)(value));

export const parseDeploymentId = decode(DeploymentId);
export const parseWorkspaceId = decode(WorkspaceId);
export const parseProjectId = decode(ProjectId);

export const badRequest = (message: string) =>
  new restate.TerminalError(message, { errorCode: 400 });

export const isSuspended = (error: unknown) => restate.internal.isSuspendedError(error);
