/**
 * The `events` table: how the domain's DeploymentEvent is stored, and the one way to write
 * events (`appendEvents`), used inside the transaction of the change they describe.
 *
 * Payloads by type:
 * - STATUS: `{ status, errorMessage?, isLive }`
 * - STEP:   `{ id, name, status, startedAt, endedAt?, message? }` (the step after the change)
 * - LOG:    `{ step, stream, region?, text }`; `log_bytes` holds the text's UTF-8 size
 * `created_at` is the event's time.
 */
import type {
  DeploymentEvent,
  DeploymentEventBody,
  DeploymentEventKind,
  DeploymentId,
  DeploymentStatus,
  DeploymentStep,
  LogStream,
  StepId,
  StepName,
  StepStatus,
} from "@ferry/domain";
import type { Event as EventRow, EventType, Prisma } from "../generated/prisma/client.ts";
import { present, toDate, toMillis } from "./prisma.ts";

export const EVENT_TYPES: Readonly<Record<DeploymentEventKind, EventType>> = {
  Status: "STATUS",
  Step: "STEP",
  Log: "LOG",
};

/** One event to write: its time, its content and (for a log line) its text's size. */
export interface EventEntry {
  readonly at: number;
  readonly body: DeploymentEventBody;
  /** For a log line: the UTF-8 size of its text. */
  readonly logBytes?: number;
}

const toPayload = (body: DeploymentEventBody): Prisma.InputJsonObject => {
  switch (body._tag) {
    case "Status":
      return {
        status: body.status,
        ...(body.errorMessage === undefined ? {} : { errorMessage: body.errorMessage }),
        isLive: body.isLive,
      };
    case "Step": {
      const step = body.step;
      return {
        id: step.id,
        name: step.name,
        status: step.status,
        startedAt: step.startedAt,
        ...(step.endedAt === undefined ? {} : { endedAt: step.endedAt }),
        ...(step.message === undefined ? {} : { message: step.message }),
      };
    }
    case "Log": {
      const line = body.line;
      return {
        step: line.step,
        stream: line.stream,
        ...(line.region === undefined ? {} : { region: line.region }),
        text: line.text,
      };
    }
  }
};

type Payload = Record<string, unknown>;

const text = (payload: Payload, key: string): string => {
  const value = payload[key];
  if (typeof value !== "string") throw new Error(`event payload: "${key}" is not a string`);
  return value;
};
const optionalText = (payload: Payload, key: string): string | undefined =>
  payload[key] === undefined || payload[key] === null ? undefined : text(payload, key);
const millis = (payload: Payload, key: string): number => {
  const value = payload[key];
  if (typeof value !== "number") throw new Error(`event payload: "${key}" is not a number`);
  return value;
};

/** A stored row as the domain's event; a malformed payload is a defect (thrown). */
export const toEvent = (row: EventRow): DeploymentEvent => {
  const payload = row.payload;
  if (typeof payload !== "object" || payload === null || Array.isArray(payload))
    throw new Error(`event ${row.deploymentId}/${row.seq} has a malformed payload`);
  const p = payload as Payload;
  const at = toMillis(row.createdAt);
  let body: DeploymentEventBody;
  switch (row.type) {
    case "STATUS":
      body = {
        _tag: "Status",
        status: text(p, "status") as DeploymentStatus,
        ...present("errorMessage", optionalText(p, "errorMessage")),
        isLive: p.isLive === true,
      };
      break;
    case "STEP": {
      const step: DeploymentStep = {
        id: text(p, "id") as StepId,
        deploymentId: row.deploymentId as DeploymentId,
        name: text(p, "name") as StepName,
        status: text(p, "status") as StepStatus,
        startedAt: millis(p, "startedAt"),
        ...present("endedAt", p.endedAt === undefined ? undefined : millis(p, "endedAt")),
        ...present("message", optionalText(p, "message")),
      };
      body = { _tag: "Step", step };
      break;
    }
    case "LOG":
      body = {
        _tag: "Log",
        line: {
          step: text(p, "step"),
          stream: text(p, "stream") as LogStream,
          ...present("region", optionalText(p, "region")),
          text: text(p, "text"),
          at,
        },
      };
      break;
  }
  return { deploymentId: row.deploymentId as DeploymentId, seq: row.seq, at, body };
};

/** The deployment's counters after an append. */
export interface EventCounters {
  readonly eventSeq: bigint;
  readonly logLines: number;
  readonly logBytes: number;
}

/**
 * Appends events to the deployment's log inside the caller's transaction: takes the next
 * seqs with `UPDATE deployments SET event_seq = event_seq + n ... RETURNING` (the row lock
 * that this takes is held until the transaction ends, so the writers of one deployment commit
 * in seq order), adds log lines to the log counters, and inserts the rows (whose trigger
 * notifies `ferry_events`). Undefined when the deployment does not exist (nothing written).
 */
export const appendEvents = async (
  tx: Prisma.TransactionClient,
  deploymentId: string,
  entries: ReadonlyArray<EventEntry>,
): Promise<EventCounters | undefined> => {
  if (entries.length === 0) return undefined;
  let logLines = 0;
  let logBytes = 0;
  for (const entry of entries)
    if (entry.body._tag === "Log") {
      logLines += 1;
      logBytes += entry.logBytes ?? 0;
    }
  const rows = await tx.$queryRaw<
    Array<{ event_seq: bigint | number; log_lines: number; log_bytes: number }>
  >`UPDATE "deployments"
    SET "event_seq" = "event_seq" + ${entries.length}::bigint,
        "log_lines" = "log_lines" + ${logLines}::int,
        "log_bytes" = "log_bytes" + ${logBytes}::int
    WHERE "id" = ${deploymentId}
    RETURNING "event_seq", "log_lines", "log_bytes"`;
  const counters = rows[0];
  if (counters === undefined) return undefined;
  const last = BigInt(counters.event_seq);
  const first = last - BigInt(entries.length) + 1n;
  await tx.event.createMany({
    data: entries.map((entry, index) => ({
      deploymentId,
      seq: first + BigInt(index),
      type: EVENT_TYPES[entry.body._tag],
      payload: toPayload(entry.body),
      logBytes: entry.body._tag === "Log" ? (entry.logBytes ?? 0) : 0,
      createdAt: toDate(entry.at),
    })),
  });
  return {
    eventSeq: last,
    logLines: Number(counters.log_lines),
    logBytes: Number(counters.log_bytes),
  };
};

/** Whether the deployment is its project's live deployment, as this transaction sees it. */
export const isLiveIn = async (
  tx: Prisma.TransactionClient,
  projectId: string,
  deploymentId: string,
): Promise<boolean> => {
  const project = await tx.project.findUnique({
    where: { id: projectId },
    select: { liveDeploymentId: true },
  });
  return project?.liveDeploymentId === deploymentId;
};
