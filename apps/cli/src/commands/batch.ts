/**
 * `ferry batch FILE`: runs the operations of a YAML or JSON batch file (format in
 * apps/cli/README.md, "Batch"), or with --dry-run only checks them.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { checkDirectories } from "../batch/local-checks.ts";
import { type BatchFile, byPosition, formatProblem, type Problem } from "../batch/model.ts";
import type { EntryOutcome } from "../batch/outcome.ts";
import { parseBatchFile } from "../batch/parse.ts";
import { projectResolver } from "../batch/plan.ts";
import {
  buildReport,
  defaultReportPath,
  entriesSoFar,
  readPreviousReport,
  writeReport,
} from "../batch/report.ts";
import { runBatch } from "../batch/run.ts";
import { checkAgainstServer } from "../batch/server-checks.ts";
import { formatDuration, formatSummary } from "../batch/summary.ts";
import type { Cli } from "../cli.ts";
import { CliError, usageError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { useColor } from "../io.ts";

interface BatchOptions {
  readonly concurrency: string;
  readonly report?: string;
  readonly dryRun?: boolean;
}

const MAX_CONCURRENCY = 64;

const parseConcurrency = (value: string): number => {
  const number = Number(value);
  if (!/^\d+$/.test(value.trim()) || number < 1 || number > MAX_CONCURRENCY)
    throw usageError(
      `--concurrency must be a whole number from 1 to ${MAX_CONCURRENCY}, not "${value}"`,
    );
  return number;
};

const readBatchFile = (file: string, shownAs: string): string => {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw usageError(
      code === "ENOENT"
        ? `the batch file ${shownAs} does not exist`
        : code === "EISDIR"
          ? `${shownAs} is a directory; give the batch file (YAML or JSON)`
          : `cannot read the batch file ${shownAs}: ${(error as Error).message}`,
    );
  }
};

export const registerBatchCommand = (program: Command, cli: Cli): void => {
  program
    .command("batch")
    .description(
      "run the deploy, promote, rollback and cancel operations of a YAML or JSON file, several at once, past failures; a re-run skips what is already done",
    )
    .argument("<file>", "the batch file (format: apps/cli/README.md, Batch)")
    .option("-c, --concurrency <n>", "operations run at once (one per project at a time)", "4")
    .option(
      "--report <path>",
      "where to write the JSON report (default: FILE's name + .report.json, next to it)",
    )
    .option("--dry-run", "check the whole file and what it names on the server; change nothing")
    .addHelpText(
      "after",
      `
A batch file:

  version: 1
  run: release-42            # optional; part of every idempotency key
  operations:
    - name: web
      op: deploy
      project: web
      image: registry.example.com/web:1.4.2
    - name: api
      op: deploy
      project: api
      env: preview
      dir: ./api             # relative to the batch file; packed honoring .dockerignore
      dockerfile: Dockerfile
      regions: [local-1]
    - name: web-live
      op: promote
      deployment: "@web"     # the deployment the entry "web" made
    - name: undo
      op: rollback
      project: shop          # target: optional (previous READY production deployment)
    - name: stop
      op: cancel
      deployment: dep_01jd...

Operations of one project run one at a time, in file order. Exit 0 when every entry
succeeded or was already done; 1 when any failed or was not run; 2 when the file has
problems (each printed as FILE:LINE:COL: message; nothing is run).

Keep the report (commit it, or pass the same --report each time): the server remembers a
promote or rollback for a day only, and a run without the report repeats older ones.

Examples:
  $ ferry batch release.yaml --dry-run
  $ ferry batch release.yaml --concurrency 8 --report out/release.json
  $ ferry batch release.yaml --json | jq '.entries[] | select(.result == "failed")'`,
    )
    .action(async (fileArgument: string, options: BatchOptions, command: Command) => {
      const { io } = cli;
      const json = cli.json(command);
      const concurrency = parseConcurrency(options.concurrency);
      const file = path.resolve(io.cwd, fileArgument);
      const text = readBatchFile(file, fileArgument);
      const parsed = parseBatchFile(text, { path: fileArgument, baseDir: path.dirname(file) });

      const fail = (problems: ReadonlyArray<Problem>): never => {
        const sorted = [...problems].sort(byPosition);
        if (json)
          io.stdout.write(
            `${JSON.stringify({ ok: false, file, problems: sorted.map((p) => ({ file: fileArgument, ...p })) }, null, 2)}\n`,
          );
        else
          for (const problem of sorted)
            io.stderr.write(`${formatProblem(fileArgument, problem)}\n`);
        throw new CliError(
          `${fileArgument}: ${sorted.length} problem${sorted.length === 1 ? "" : "s"}; nothing was run`,
          ExitCode.Usage,
          "invalid_batch_file",
        );
      };
      if (parsed.file === undefined) return fail(parsed.problems);
      const batch: BatchFile = parsed.file;
      const local = checkDirectories(batch);

      const api = cli.api(command);
      if (options.dryRun === true) {
        const remote = await checkAgainstServer(api, batch, projectResolver(api));
        const problems = [...local, ...remote];
        if (problems.length > 0) return fail(problems);
        cli.result(
          command,
          { ok: true, file, problems: [], operations: batch.entries.length },
          () =>
            `${fileArgument}: ${batch.entries.length} operation${batch.entries.length === 1 ? "" : "s"}, no problems found (dry run: nothing was changed)`,
        );
        return;
      }
      if (local.length > 0) return fail(local);

      const reportPath =
        options.report === undefined
          ? defaultReportPath(file)
          : path.resolve(io.cwd, options.report);
      const reportDir = path.dirname(reportPath);
      if (!existsSync(reportDir) || !statSync(reportDir).isDirectory())
        throw usageError(
          `the report's directory ${reportDir} does not exist; create it or pass another --report`,
        );
      const previous = readPreviousReport(reportPath);
      // Restate keeps a promote's or rollback's idempotency key for a day only: past that, the
      // report is the only record that one ran (decision 0019).
      const traffic = batch.entries.filter((entry) =>
        ["promote", "rollback"].includes(entry.operation.op),
      );
      if (!previous.exists && traffic.length > 0)
        io.stderr.write(
          `ferry: no report at ${reportPath}: promote and rollback entries run as on a first run. Keep the report this run writes (commit it, or pass the same --report next time): without it, a later run repeats traffic changes made more than a day before.\n`,
        );
      const interrupt = new AbortController();
      const onSigint = () => interrupt.abort();
      process.once("SIGINT", onSigint);
      const startedAt = new Date();
      const total = batch.entries.length;
      let ended = 0;
      const say = (line: string) => {
        if (!json) io.stderr.write(`${line}\n`);
      };
      const finished: Array<EntryOutcome> = [];
      // Rewritten after each entry, so a run that dies still leaves the record of what it did.
      const writeSoFar = () =>
        writeReport(
          reportPath,
          buildReport({
            file,
            run: batch.run,
            startedAt: startedAt.toISOString(),
            finishedAt: new Date().toISOString(),
            entries: entriesSoFar(finished, previous.outcomes),
          }),
        );
      let outcomes: Awaited<ReturnType<typeof runBatch>>;
      try {
        outcomes = await runBatch(api, batch, {
          concurrency,
          previous: previous.outcomes,
          signal: interrupt.signal,
          onStart: (entry) => say(`start  ${entry.name} (${entry.operation.op})`),
          onEnd: (outcome) => {
            finished.push(outcome);
            writeSoFar();
            say(
              `[${++ended}/${total}] ${outcome.name}: ${outcome.result}${outcome.deploymentId === "" ? "" : ` ${outcome.deploymentId}`} (${formatDuration(outcome.durationMs)})${outcome.message === "" ? "" : ` ${outcome.message}`}`,
            );
          },
          onWarning: (entry, message) =>
            io.stderr.write(`ferry: warning: ${entry.name}: ${message}\n`),
        });
      } finally {
        process.removeListener("SIGINT", onSigint);
      }
      const report = buildReport({
        file,
        run: batch.run,
        startedAt: startedAt.toISOString(),
        finishedAt: new Date().toISOString(),
        entries: outcomes,
      });
      writeReport(reportPath, report);
      cli.result(command, report, () =>
        formatSummary(report, { color: useColor(io, io.stdout), reportPath }),
      );
      if (interrupt.signal.aborted) cli.exitWith(ExitCode.Interrupted);
      else if (!report.ok) cli.exitWith(ExitCode.OperationFailed);
    });
};
