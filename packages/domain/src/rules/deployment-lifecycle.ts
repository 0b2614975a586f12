/**
 * The deployment state machine.
 *
 *   PENDING ─→ BUILDING ─→ DEPLOYING ─→ NETWORK ─→ READY
 *      │  └──────────────────↗   (a prebuilt image skips BUILDING)
 *      └→ SUPERSEDED           any non-terminal ─→ FAILED | CANCELLED
 *
 * READY, FAILED, CANCELLED and SUPERSEDED are terminal. Only a PENDING
 * deployment can be superseded: once a workflow has started on it, it runs
 * to an end of its own.
 */
import { Either } from "effect";
import { PreconditionFailed } from "../errors.ts";
import type { DeploymentStatus } from "../model/deployment.ts";

export const TERMINAL_STATUSES: ReadonlySet<DeploymentStatus> = new Set([
  "READY",
  "FAILED",
  "CANCELLED",
  "SUPERSEDED",
]);

const NEXT: Readonly<Record<DeploymentStatus, ReadonlyArray<DeploymentStatus>>> = {
  PENDING: ["BUILDING", "DEPLOYING", "FAILED", "CANCELLED", "SUPERSEDED"],
  BUILDING: ["DEPLOYING", "FAILED", "CANCELLED"],
  DEPLOYING: ["NETWORK", "FAILED", "CANCELLED"],
  NETWORK: ["READY", "FAILED", "CANCELLED"],
  READY: [],
  FAILED: [],
  CANCELLED: [],
  SUPERSEDED: [],
};

export const isTerminal = (status: DeploymentStatus): boolean => TERMINAL_STATUSES.has(status);

/** The statuses a deployment may move to from `status`. */
export const nextStatuses = (status: DeploymentStatus): ReadonlyArray<DeploymentStatus> =>
  NEXT[status];

export const canTransition = (from: DeploymentStatus, to: DeploymentStatus): boolean =>
  NEXT[from].includes(to);

/**
 * Checks a status change. Staying in the same status is accepted (a replayed
 * workflow step writes the same status again); anything else not in the
 * table is a PreconditionFailed naming both ends.
 */
export const transition = (
  from: DeploymentStatus,
  to: DeploymentStatus,
): Either.Either<DeploymentStatus, PreconditionFailed> =>
  from === to || canTransition(from, to)
    ? Either.right(to)
    : Either.left(
        new PreconditionFailed({
          reason: isTerminal(from)
            ? `deployment is already ${from}; it cannot become ${to}`
            : `a deployment cannot go from ${from} to ${to}`,
        }),
      );

/** The statuses from which a deployment may be cancelled. */
export const isCancellable = (status: DeploymentStatus): boolean =>
  canTransition(status, "CANCELLED");
