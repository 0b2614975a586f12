/**
 * A batch run: plan each entry's project, then run the entries with bounded concurrency, one
 * project at a time per project and in file order, each to its end, past failures.
 */
import type { Api } from "../api.ts";
import { type ExecutionContext, executeEntry } from "./execute.ts";
import type { BatchFile, Entry } from "./model.ts";
import { type EntryOutcome, outcomeOf } from "./outcome.ts";
import { planEntries, projectResolver } from "./plan.ts";
import { schedule } from "./schedule.ts";

export interface RunOptions {
  readonly concurrency: number;
  /** The previous report's outcomes by idempotency key (see report.ts). */
  readonly previous: ReadonlyMap<string, EntryOutcome>;
  /** Aborting starts nothing new and stops waiting; what was started goes on on the server. */
  readonly signal: AbortSignal;
  readonly now?: () => number;
  /** Called as each entry starts and ends (progress display). */
  readonly onStart?: (entry: Entry) => void;
  readonly onEnd?: (outcome: EntryOutcome) => void;
  /** A warning about an entry that does not fail it (for example git metadata left out). */
  readonly onWarning?: (entry: Entry, message: string) => void;
}

export const runBatch = async (
  api: Api,
  file: BatchFile,
  options: RunOptions,
): Promise<Array<EntryOutcome>> => {
  const plan = await planEntries(api, file.entries, projectResolver(api), options.concurrency);
  const finished = new Map<string, EntryOutcome>();
  const context: ExecutionContext = {
    api,
    signal: options.signal,
    finished,
    previous: options.previous,
    now: options.now ?? Date.now,
    warn: (entry, message) => options.onWarning?.(entry, message),
  };
  const settle = (outcome: EntryOutcome) => {
    finished.set(outcome.name, outcome);
    options.onEnd?.(outcome);
    return outcome;
  };
  return schedule(file.entries, {
    concurrency: options.concurrency,
    laneOf: plan.laneOf,
    signal: options.signal,
    run: async (entry) => {
      options.onStart?.(entry);
      return settle(await executeEntry(entry, plan.byName.get(entry.name), context));
    },
    // executeEntry turns every failure into an outcome; this is for a bug in it.
    onError: (entry, error) =>
      settle(
        outcomeOf(entry, {
          result: "failed",
          message: `unexpected error: ${error instanceof Error ? error.message : String(error)}`,
        }),
      ),
    onNotStarted: (entry) =>
      settle(
        outcomeOf(entry, {
          result: "not-run",
          message: "the run was interrupted before it started",
        }),
      ),
  });
};
