/**
 * EventLog on Prisma. Events are keyed (deployment_id, seq); seq comes from
 * `deployments.event_seq` in the writing transaction (event-rows.ts), so it is commit-ordered
 * per deployment. The status and step events are written by DeploymentRepositoryLive; this
 * adapter appends log lines and reads.
 */
import {
  checkLogLimits,
  DEFAULT_LOG_LIMITS,
  type DeploymentEvent,
  EventLog,
  type LogLimits,
  normalizeLogLines,
  tailWithinLimits,
  type UnstoredLines,
  unstoredLines,
} from "@ferry/domain";
import { Effect, Layer } from "effect";
import type { Prisma } from "../generated/prisma/client.ts";
import { appendEvents, EVENT_TYPES, toEvent } from "./event-rows.ts";
import { Db, INTERACTIVE_TRANSACTION, query } from "./prisma.ts";

/**
 * Deletes the deployment's oldest log lines until its log is back within `limits`, in the
 * caller's transaction (which holds the deployment's row lock). Returns how many it deleted.
 */
const trimLogs = async (
  tx: Prisma.TransactionClient,
  deploymentId: string,
  counters: { readonly logLines: number; readonly logBytes: number },
  limits: LogLimits,
): Promise<number> => {
  const excessLines = counters.logLines - limits.maxLines;
  const excessBytes = counters.logBytes - limits.maxBytes;
  if (excessLines <= 0 && excessBytes <= 0) return 0;
  // The shortest run of oldest log lines that covers both excesses: running totals from the
  // oldest, stopping at the first line where both are reached (an index scan in seq order).
  const cut = await tx.$queryRaw<Array<{ seq: bigint }>>`
    SELECT "seq" FROM (
      SELECT "seq",
             count(*) OVER "oldest_first" AS "lines",
             sum("log_bytes") OVER "oldest_first" AS "bytes"
      FROM "events"
      WHERE "deployment_id" = ${deploymentId} AND "type" = 'LOG'
      WINDOW "oldest_first" AS (ORDER BY "seq")
    ) AS "running"
    WHERE "lines" >= ${excessLines}::bigint AND "bytes" >= ${excessBytes}::bigint
    ORDER BY "seq"
    LIMIT 1`;
  const through = cut[0]?.seq;
  if (through === undefined) throw new Error(`log counters of ${deploymentId} exceed its log`);
  const deleted = await tx.$queryRaw<Array<{ lines: number; bytes: number }>>`
    WITH "gone" AS (
      DELETE FROM "events"
      WHERE "deployment_id" = ${deploymentId} AND "type" = 'LOG' AND "seq" <= ${through}::bigint
      RETURNING "log_bytes"
    )
    SELECT count(*)::int AS "lines", coalesce(sum("log_bytes"), 0)::int AS "bytes" FROM "gone"`;
  const lines = Number(deleted[0]?.lines ?? 0);
  const bytes = Number(deleted[0]?.bytes ?? 0);
  await tx.$executeRaw`
    UPDATE "deployments"
    SET "log_lines" = "log_lines" - ${lines}::int, "log_bytes" = "log_bytes" - ${bytes}::int
    WHERE "id" = ${deploymentId}`;
  return lines;
};

/** EventLog on Prisma with this log budget per deployment (needs `Db`). */
export const makeEventLogLive = (limits: LogLimits = DEFAULT_LOG_LIMITS) => {
  checkLogLimits(limits);
  return Layer.effect(
    EventLog,
    Effect.map(Db, (db) => {
      const lastSeq = (deploymentId: string) =>
        query(() =>
          db.deployment.findUnique({ where: { id: deploymentId }, select: { eventSeq: true } }),
        ).pipe(Effect.map((row) => row?.eventSeq ?? 0n));
      return EventLog.of({
        appendLogs: (deploymentId, lines) =>
          Effect.suspend(() => {
            // Every line given becomes at least one stored line: only an empty batch stores none.
            if (lines.length === 0)
              return Effect.map(lastSeq(deploymentId), (seq) => ({
                appended: 0,
                dropped: 0,
                lastSeq: seq,
              }));
            const withOffsets = lines.some((line) => line.offset !== undefined);
            return query(() =>
              db.$transaction(async (tx) => {
                // Lines with a source offset: the stored offset is read under the deployment's
                // row lock (held to the end of the transaction), so concurrent or repeated
                // batches of the same lines store them once.
                let unstored: UnstoredLines = { lines, offset: null };
                if (withOffsets) {
                  const rows = await tx.$queryRaw<
                    Array<{ event_seq: bigint | number; log_offset: bigint | number | null }>
                  >`SELECT "event_seq", "log_offset" FROM "deployments"
                    WHERE "id" = ${deploymentId} FOR UPDATE`;
                  const row = rows[0];
                  if (row === undefined) return { appended: 0, dropped: 0, lastSeq: 0n };
                  unstored = unstoredLines(
                    lines,
                    row.log_offset === null ? null : Number(row.log_offset),
                  );
                  if (unstored.lines.length === 0)
                    return { appended: 0, dropped: 0, lastSeq: BigInt(row.event_seq) };
                }
                const normalized = normalizeLogLines(unstored.lines);
                // A batch over the budget on its own keeps its tail (the rest would be deleted at once).
                const kept = tailWithinLimits(normalized, limits);
                const counters = await appendEvents(
                  tx,
                  deploymentId,
                  kept.map(({ line, bytes }) => ({
                    at: line.at,
                    body: { _tag: "Log", line },
                    logBytes: bytes,
                  })),
                );
                if (counters === undefined) return { appended: 0, dropped: 0, lastSeq: 0n };
                const deleted = await trimLogs(tx, deploymentId, counters, limits);
                if (withOffsets && unstored.offset !== null)
                  await tx.$executeRaw`
                    UPDATE "deployments" SET "log_offset" = ${unstored.offset}::bigint
                    WHERE "id" = ${deploymentId}`;
                return {
                  appended: kept.length,
                  dropped: normalized.length - kept.length + deleted,
                  lastSeq: counters.eventSeq,
                };
              }, INTERACTIVE_TRANSACTION),
            );
          }),
        list: (deploymentId, q) =>
          query(() =>
            db.event.findMany({
              where: {
                deploymentId,
                seq: { gt: q.afterSeq },
                ...(q.kinds === undefined
                  ? {}
                  : { type: { in: q.kinds.map((kind) => EVENT_TYPES[kind]) } }),
                ...(q.logStep === undefined
                  ? {}
                  : {
                      OR: [
                        { type: { not: "LOG" } },
                        { payload: { path: ["step"], equals: q.logStep } },
                      ],
                    }),
              },
              orderBy: { seq: "asc" },
              take: q.limit,
            }),
          ).pipe(Effect.map((rows): ReadonlyArray<DeploymentEvent> => rows.map(toEvent))),
        lastSeq,
      });
    }),
  );
};

/** EventLog on Prisma with DEFAULT_LOG_LIMITS. */
export const EventLogLive = makeEventLogLive();
