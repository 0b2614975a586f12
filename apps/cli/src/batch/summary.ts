/**
 * The summary table printed at the end of a run: one row per entry in file order, then the
 * counts and where the report is. Plain text; on a terminal (and without NO_COLOR) the result
 * column is colored.
 */
import { table } from "../format/text.ts";
import type { EntryOutcome, EntryResult } from "./outcome.ts";
import type { BatchReport } from "./report.ts";

export const formatDuration = (ms: number): string => {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.floor((ms % 60_000) / 1000);
  return `${minutes}m${String(seconds).padStart(2, "0")}s`;
};

const COLORS: Readonly<Record<EntryResult, string>> = {
  succeeded: "\u001b[32m",
  skipped: "\u001b[36m",
  failed: "\u001b[31m",
  "not-run": "\u001b[33m",
};

const row = (outcome: EntryOutcome) => [
  outcome.name,
  outcome.project === "" ? "-" : outcome.project,
  outcome.operation,
  outcome.result,
  outcome.deploymentId === "" ? "-" : outcome.deploymentId,
  formatDuration(outcome.durationMs),
  outcome.message,
];

export const formatSummary = (
  report: BatchReport,
  options: { readonly color: boolean; readonly reportPath: string },
): string => {
  const rows = report.entries.map(row);
  let text = table(
    ["ENTRY", "PROJECT", "OPERATION", "RESULT", "DEPLOYMENT", "DURATION", "MESSAGE"],
    rows,
  );
  if (options.color) {
    // Color after padding, so the escape codes do not count as width.
    const lines = text.split("\n");
    text = lines
      .map((line, index) => {
        const outcome = report.entries[index - 1];
        if (outcome === undefined) return line;
        return line.replace(
          new RegExp(`(?<=  )${outcome.result}(?= )`),
          `${COLORS[outcome.result]}${outcome.result}\u001b[0m`,
        );
      })
      .join("\n");
  }
  const { counts } = report;
  return [
    text,
    "",
    `${counts.succeeded} succeeded, ${counts.skipped} skipped (already done), ${counts.failed} failed, ${counts["not-run"]} not run`,
    `report: ${options.reportPath}`,
  ].join("\n");
};
