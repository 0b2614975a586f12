/**
 * The machine-readable report of a batch run (written as JSON, and printed with --json), and
 * reading the previous one back: a re-run reuses the ids it recorded for each idempotency key
 * (see execute.ts). The field names are a contract, documented in apps/cli/README.md.
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
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
 * The previous report's entries by idempotency key; empty when there is none or it cannot be
 * read (it is only a hint: the server's state decides what is done).
 */
export const readPreviousOutcomes = (file: string): Map<string, EntryOutcome> => {
  const byKey = new Map<string, EntryOutcome>();
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return byKey;
  }
  const report = parsed as Partial<BatchReport> | null;
  if (report?.version !== REPORT_VERSION || !Array.isArray(report.entries)) return byKey;
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
  return byKey;
};
