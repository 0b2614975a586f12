/**
 * The machine-readable report of a batch run (written as JSON, and printed with --json), and
 * reading the previous one back: a re-run reuses the ids it recorded for each idempotency key
 * (see execute.ts). The field names are a contract, documented in apps/cli/README.md.
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { usageError } from "../errors.ts";
import { type EntryOutcome, type EntryResult, isSuccess, RESULTS } from "./outcome.ts";

export const REPORT_VERSION = 1;

export interface BatchReport {
  readonly version: typeof REPORT_VERSION;
  /** The batch file, absolute. */
  readonly file: string;
  readonly run: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  /** True when no entry failed or was not run. */
  readonly ok: boolean;
  readonly counts: Readonly<Record<EntryResult, number>>;
  readonly entries: ReadonlyArray<EntryOutcome>;
}

/** `release.yaml` → `release.report.json`, in the same directory. */
export const defaultReportPath = (batchFile: string): string => {
  const parsed = path.parse(path.resolve(batchFile));
  return path.join(parsed.dir, `${parsed.name}.report.json`);
};

export const buildReport = (
  fields: Omit<BatchReport, "version" | "ok" | "counts">,
): BatchReport => {
  const counts = Object.fromEntries(RESULTS.map((result) => [result, 0])) as Record<
    EntryResult,
    number
  >;
  for (const entry of fields.entries) counts[entry.result]++;
  return {
    version: REPORT_VERSION,
    ...fields,
    ok: fields.entries.every((entry) => isSuccess(entry.result)),
    counts,
  };
};

/** Written to a temporary file and renamed, so a reader never sees half a report. */
export const writeReport = (file: string, report: BatchReport): void => {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(report, null, 2)}\n`);
  renameSync(temporary, file);
};

/**
 * The entries of a report written while the run goes on: those finished so far, then what the
 * previous report recorded for every other key. A run that dies (killed, a lost machine) leaves
 * a report that still records every traffic operation done so far, by this run or earlier.
 */
export const entriesSoFar = (
  finished: ReadonlyArray<EntryOutcome>,
  previous: ReadonlyMap<string, EntryOutcome>,
): Array<EntryOutcome> => {
  const keys = new Set(finished.map((outcome) => outcome.idempotencyKey));
  return [...finished, ...[...previous.values()].filter((old) => !keys.has(old.idempotencyKey))];
};

/** What the previous report at a path says: whether there is one, and its entries by key. */
export interface PreviousReport {
  /** False when no file is at the path: the file is run for the first time (as far as we know). */
  readonly exists: boolean;
  readonly outcomes: ReadonlyMap<string, EntryOutcome>;
}

/**
 * The previous report at `file`. None is a first run; a file that is there but is not a
 * readable report of this format is a usage error: it is the record of which traffic
 * operations ran (see execute.ts), and ignoring it could repeat them.
 */
export const readPreviousReport = (file: string): PreviousReport => {
  const byKey = new Map<string, EntryOutcome>();
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT")
      return { exists: false, outcomes: byKey };
    throw usageError(
      `cannot read the previous report ${file}: ${(error as Error).message}; it records what earlier runs did, so fix its permissions (or pass --report)`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const report = parsed as Partial<BatchReport> | null | undefined;
  if (report?.version !== REPORT_VERSION || !Array.isArray(report.entries))
    throw usageError(
      `${file} is not a ferry batch report (version ${REPORT_VERSION}); it would be replaced by this run's report: move it away, or pass --report PATH`,
    );
  for (const entry of report.entries as Array<Partial<EntryOutcome>>) {
    if (typeof entry?.idempotencyKey !== "string") continue;
    byKey.set(entry.idempotencyKey, {
      ...(entry as EntryOutcome),
      deploymentId: typeof entry.deploymentId === "string" ? entry.deploymentId : "",
      request: {
        ...(typeof entry.request?.targetDeploymentId === "string"
          ? { targetDeploymentId: entry.request.targetDeploymentId }
          : {}),
        ...(typeof entry.request?.sourceDeploymentId === "string"
          ? { sourceDeploymentId: entry.request.sourceDeploymentId }
          : {}),
      },
    });
  }
  return { exists: true, outcomes: byKey };
};
