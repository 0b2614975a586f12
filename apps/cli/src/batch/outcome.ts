/**
 * What happened to each entry of a batch run: the rows of the summary table and the entries of
 * the JSON report. Field names are part of the report's contract (see apps/cli/README.md).
 */
import type { Entry, OperationName } from "./model.ts";

/**
 * - `succeeded`: done by this run (a deploy ended READY; a promote, rollback or cancel applied);
 * - `skipped`: already done before this run (by an earlier run of the file, or the project was
 *   already in the asked-for state); nothing was sent that changes anything;
 * - `failed`: the operation ran, or was refused, and did not succeed;
 * - `not-run`: never started: an entry it depends on (`@name`) did not succeed, or the run was
 *   interrupted first.
 */
export type EntryResult = "succeeded" | "skipped" | "failed" | "not-run";

export const RESULTS: ReadonlyArray<EntryResult> = ["succeeded", "skipped", "failed", "not-run"];

/** True for results that do not fail the batch. */
export const isSuccess = (result: EntryResult): boolean =>
  result === "succeeded" || result === "skipped";

/** The ids an entry was resolved to when it ran: what a re-run reuses for "the same request". */
export interface ResolvedRequest {
  /** promote, rollback: the target deployment. */
  readonly targetDeploymentId?: string;
  /** rollback: the source (live) deployment. */
  readonly sourceDeploymentId?: string;
}

export interface EntryOutcome {
  readonly name: string;
  /** Where the entry starts in the file. */
  readonly line: number;
  readonly operation: OperationName;
  /** The project as the file names it (deploy, rollback) or as resolved (promote, cancel); "" if unknown. */
  readonly project: string;
  /** The project's id once resolved; "" if it never was. */
  readonly projectId: string;
  readonly result: EntryResult;
  /** The deployment the entry made, promoted, rolled back to or cancelled; "" if none. */
  readonly deploymentId: string;
  /** That deployment's status at the end (`READY`, `FAILED`, ...); "" if none. */
  readonly status: string;
  /** Why it failed or was skipped, or what it changed; "" when there is nothing to add. */
  readonly message: string;
  readonly durationMs: number;
  readonly idempotencyKey: string;
  readonly request: ResolvedRequest;
}

/** An outcome with the entry's identity filled in. */
export const outcomeOf = (
  entry: Entry,
  fields: Partial<Omit<EntryOutcome, "name" | "line" | "operation">> & Pick<EntryOutcome, "result">,
): EntryOutcome => ({
  name: entry.name,
  line: entry.at.line,
  operation: entry.operation.op,
  project: fields.project ?? "",
  projectId: fields.projectId ?? "",
  result: fields.result,
  deploymentId: fields.deploymentId ?? "",
  status: fields.status ?? "",
  message: fields.message ?? "",
  durationMs: fields.durationMs ?? 0,
  // A directory deploy's key includes its content's digest, known only once packed.
  idempotencyKey: fields.idempotencyKey ?? entry.idempotencyKey,
  request: fields.request ?? {},
});
