/** Deployment statuses as the CLI names them (`READY`, not `DEPLOYMENT_STATUS_READY`). */
import { DeploymentStatus } from "@ferry/api";
import { usageError } from "./errors.ts";

const TERMINAL: ReadonlySet<DeploymentStatus> = new Set([
  DeploymentStatus.READY,
  DeploymentStatus.FAILED,
  DeploymentStatus.CANCELLED,
  DeploymentStatus.SUPERSEDED,
]);

/** READY, FAILED, CANCELLED and SUPERSEDED: the deployment will not change any more. */
export const isTerminal = (status: DeploymentStatus): boolean => TERMINAL.has(status);

/** `READY` for DeploymentStatus.READY; `UNKNOWN(12)` for a value this CLI does not know. */
export const statusName = (status: DeploymentStatus): string =>
  DeploymentStatus[status] ?? `UNKNOWN(${status})`;

/** `FAILED: the container exited with code 3`, or `READY` when the server gave no message. */
export const statusWithMessage = (status: DeploymentStatus, errorMessage: string): string =>
  `${statusName(status)}${errorMessage === "" ? "" : `: ${errorMessage}`}`;

/** Parses a status name as a user types it (`ready`, `READY`). */
export const parseStatus = (name: string): DeploymentStatus => {
  const key = name.trim().toUpperCase();
  const value = (DeploymentStatus as unknown as Record<string, DeploymentStatus | undefined>)[key];
  if (value === undefined || value === DeploymentStatus.UNSPECIFIED)
    throw usageError(
      `unknown status "${name}": use one of ${Object.keys(DeploymentStatus)
        .filter((k) => Number.isNaN(Number(k)) && k !== "UNSPECIFIED")
        .join(", ")}`,
    );
  return value;
};
