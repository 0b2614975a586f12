/**
 * The event log on Prisma: events written by the repositories with each change (and only
 * then), a per-deployment seq in commit order even under concurrent writers, log lines
 * normalized and kept within the budget (the tail stays).
 */
import {
  type DeploymentEvent,
  type DeploymentId,
  DeploymentRepository,
  EventLog,
  type EventQuery,
  type LogLimits,
  type LogLineInput,
  RouteRepository,
} from "@ferry/domain";
import { Effect, Fiber, Layer } from "effect";
import { describe, expect, it } from "vitest";
import { Db, makeEventLogLive } from "../../src/repositories/index.ts";
import { testDatabaseKinds } from "../../src/testing.ts";
import { createDeployment, createTenant, NOW, newId, useRepositories } from "./harness.ts";

/** The events of a deployment as [seq, what] pairs: easy to compare whole. */
const summary = (events: ReadonlyArray<DeploymentEvent>) =>
  events.map((e) => {
    const body = e.body;
    const what =
      body._tag === "Status"
        ? `status ${body.status}${body.isLive ? " live" : ""}${body.errorMessage === undefined ? "" : ` (${body.errorMessage})`}`
        : body._tag === "Step"
          ? `step ${body.step.name} ${body.step.status}${body.step.message === undefined ? "" : ` (${body.step.message})`}`
          : `log ${body.line.step} ${body.line.stream} ${body.line.text}`;
    return [Number(e.seq), what] as const;
  });

const eventsOf = (id: DeploymentId, query: Partial<EventQuery> = {}) =>
  Effect.flatMap(EventLog, (log) => log.list(id, { afterSeq: 0n, limit: 100_000, ...query }));

const line = (text: string | Uint8Array, extra: Partial<LogLineInput> = {}): LogLineInput => ({
  step: "BUILDING",
  stream: "STDOUT",
  text,
  at: NOW,
  ...extra,
});

describe.each(testDatabaseKinds())("EventLog on %s", (kind) => {
  const { run, prisma } = useRepositories(kind);

  /** The repositories, with an EventLog of this budget. */
  const withLimits = (limits: LogLimits) =>
    Effect.provide(makeEventLogLive(limits).pipe(Layer.provide(Layer.succeed(Db, prisma()))));

  /** The deployment's counters and its log as stored. */
  const stored = async (id: DeploymentId) => {
    const row = await prisma().deployment.findUniqueOrThrow({
      where: { id },
      select: { eventSeq: true, logLines: true, logBytes: true },
    });
    const logs = await prisma().event.aggregate({
      where: { deploymentId: id, type: "LOG" },
      _count: true,
      _sum: { logBytes: true },
    });
    return { ...row, rows: logs._count, rowBytes: logs._sum.logBytes ?? 0 };
  };

  it("the deployment repository writes an event with each change, once", async () => {
    await run(
      Effect.gen(function* () {
        const tenant = yield* createTenant();
        const d = yield* createDeployment(tenant);
        const deployments = yield* DeploymentRepository;
        const stepId = newId("step");
        yield* deployments.updateStatus(d.id, { from: ["PENDING"], to: "BUILDING", at: NOW + 1 });
        yield* deployments.startStep({
          id: stepId,
          deploymentId: d.id,
          name: "BUILDING",
          at: NOW + 1,
        });
        // Replays (a workflow step that runs again) change nothing and write nothing.
        const again = yield* deployments.updateStatus(d.id, {
          from: ["PENDING", "BUILDING"],
          to: "BUILDING",
          at: NOW + 2,
        });
        expect(again._tag).toBe("Some");
        yield* deployments.startStep({
          id: newId("step"),
          deploymentId: d.id,
          name: "BUILDING",
          at: NOW + 2,
        });
        for (const at of [NOW + 3, NOW + 4])
          yield* deployments.finishStep({
            deploymentId: d.id,
            name: "BUILDING",
            status: "FAILED",
            at,
            message: "no Dockerfile",
          });
        // A compare-and-set that does not apply writes nothing either.
        const refused = yield* deployments.updateStatus(d.id, {
          from: ["NETWORK"],
          to: "READY",
          at: NOW + 4,
        });
        expect(refused._tag).toBe("None");
        yield* deployments.updateStatus(d.id, {
          from: ["BUILDING"],
          to: "FAILED",
          at: NOW + 5,
          errorMessage: "the build failed: no Dockerfile",
        });
        const events = yield* eventsOf(d.id);
        expect(summary(events)).toStrictEqual([
          [1, "status PENDING"],
          [2, "status BUILDING"],
          [3, "step BUILDING RUNNING"],
          [4, "step BUILDING FAILED (no Dockerfile)"],
          [5, "status FAILED (the build failed: no Dockerfile)"],
        ]);
        expect(events.map((e) => e.at)).toStrictEqual([NOW, NOW + 1, NOW + 1, NOW + 3, NOW + 5]);
        expect(events[3]).toStrictEqual({
          deploymentId: d.id,
          seq: 4n,
          at: NOW + 3,
          body: {
            _tag: "Step",
            step: {
              id: stepId,
              deploymentId: d.id,
              name: "BUILDING",
              status: "FAILED",
              startedAt: NOW + 1,
              endedAt: NOW + 3,
              message: "no Dockerfile",
            },
          },
        });
        expect(yield* (yield* EventLog).lastSeq(d.id)).toBe(5n);
      }),
    );
  });

  it("a READY deployment that took the live routes is live in its status event", async () => {
    await run(
      Effect.gen(function* () {
        const tenant = yield* createTenant();
        const d = yield* createDeployment(tenant);
        const deployments = yield* DeploymentRepository;
        for (const [from, to] of [
          ["PENDING", "DEPLOYING"],
          ["DEPLOYING", "NETWORK"],
        ] as const)
          yield* deployments.updateStatus(d.id, { from: [from], to, at: NOW });
        yield* (yield* RouteRepository).point({
          workspaceId: tenant.workspace.id,
          projectId: tenant.project.id,
          environmentId: tenant.production.id,
          deploymentId: d.id,
          routes: [{ hostname: `${tenant.project.slug}.ferry.test`, kind: "LIVE" }],
          liveTraffic: { rolledBack: false },
          at: NOW,
        });
        yield* deployments.updateStatus(d.id, { from: ["NETWORK"], to: "READY", at: NOW });
        expect(summary(yield* eventsOf(d.id))).toStrictEqual([
          [1, "status PENDING"],
          [2, "status DEPLOYING"],
          [3, "status NETWORK"],
          [4, "status READY live"],
        ]);
      }),
    );
  });

  it("superseding writes a SUPERSEDED event for each deployment it ends", async () => {
    await run(
      Effect.gen(function* () {
        const tenant = yield* createTenant();
        const older = yield* createDeployment(tenant);
        const old2 = yield* createDeployment(tenant);
        const newer = yield* createDeployment(tenant);
        const input = {
          projectId: tenant.project.id,
          environmentId: tenant.production.id,
          branch: undefined,
          newerThan: newer.id,
          at: NOW + 9,
        };
        const deployments = yield* DeploymentRepository;
        expect(yield* deployments.supersedeOlderPending(input)).toStrictEqual([older.id, old2.id]);
        expect(yield* deployments.supersedeOlderPending(input)).toStrictEqual([]);
        for (const id of [older.id, old2.id])
          expect(summary(yield* eventsOf(id))).toStrictEqual([
            [1, "status PENDING"],
            [2, "status SUPERSEDED"],
          ]);
        expect(summary(yield* eventsOf(newer.id))).toStrictEqual([[1, "status PENDING"]]);
      }),
    );
  });

  it("appendLogs: lines interleave with the other events; list filters", async () => {
    await run(
      Effect.gen(function* () {
        const tenant = yield* createTenant();
        const d1 = yield* createDeployment(tenant);
        const d2 = yield* createDeployment(tenant);
        const log = yield* EventLog;
        expect(
          yield* log.appendLogs(d1.id, [
            line("Step 1/2 : FROM scratch"),
            line("oops", { stream: "STDERR", at: NOW + 1 }),
          ]),
        ).toStrictEqual({ appended: 2, dropped: 0, lastSeq: 3n });
        yield* (yield* DeploymentRepository).updateStatus(d1.id, {
          from: ["PENDING"],
          to: "CANCELLED",
          at: NOW + 2,
        });
        yield* log.appendLogs(d2.id, [line("other")]);
        yield* log.appendLogs(d1.id, [line("late", { step: "DEPLOYING", region: "local-1" })]);
        expect(yield* log.appendLogs(d1.id, [])).toStrictEqual({
          appended: 0,
          dropped: 0,
          lastSeq: 5n,
        });
        const events = yield* eventsOf(d1.id);
        expect(summary(events)).toStrictEqual([
          [1, "status PENDING"],
          [2, "log BUILDING STDOUT Step 1/2 : FROM scratch"],
          [3, "log BUILDING STDERR oops"],
          [4, "status CANCELLED"],
          [5, "log DEPLOYING STDOUT late"],
        ]);
        expect(events[2]?.at).toBe(NOW + 1);
        expect(events[4]?.body).toStrictEqual({
          _tag: "Log",
          line: { step: "DEPLOYING", stream: "STDOUT", region: "local-1", text: "late", at: NOW },
        });
        expect(summary(yield* eventsOf(d2.id))).toStrictEqual([
          [1, "status PENDING"],
          [2, "log BUILDING STDOUT other"],
        ]);
        expect(summary(yield* eventsOf(d1.id, { afterSeq: 2n, limit: 2 }))).toStrictEqual([
          [3, "log BUILDING STDERR oops"],
          [4, "status CANCELLED"],
        ]);
        expect(summary(yield* eventsOf(d1.id, { kinds: ["Status", "Step"] }))).toStrictEqual([
          [1, "status PENDING"],
          [4, "status CANCELLED"],
        ]);
        expect(
          summary(yield* eventsOf(d1.id, { kinds: ["Log"], logStep: "BUILDING", afterSeq: 2n })),
        ).toStrictEqual([[3, "log BUILDING STDERR oops"]]);
        expect(summary(yield* eventsOf(d1.id, { logStep: "DEPLOYING" }))).toStrictEqual([
          [1, "status PENDING"],
          [4, "status CANCELLED"],
          [5, "log DEPLOYING STDOUT late"],
        ]);
        const missing = newId("deployment");
        expect(yield* log.appendLogs(missing, [line("x")])).toStrictEqual({
          appended: 0,
          dropped: 0,
          lastSeq: 0n,
        });
        expect(yield* log.lastSeq(missing)).toBe(0n);
        expect(yield* eventsOf(missing)).toStrictEqual([]);
      }),
    );
  });

  it("stores lines normalized: UTF-8 repaired, NUL replaced, long lines split", async () => {
    const long = "ü".repeat(10_000); // 20000 bytes
    const d = await run(
      Effect.gen(function* () {
        const d = yield* createDeployment(yield* createTenant());
        yield* (yield* EventLog).appendLogs(d.id, [
          line(new Uint8Array([0x6f, 0x6b, 0xff, 0x00, 0x21])),
          line(`${long}\nnext\r\n`),
        ]);
        const texts = (yield* eventsOf(d.id, { kinds: ["Log"] })).map((e) =>
          e.body._tag === "Log" ? e.body.line.text : "",
        );
        expect(texts).toStrictEqual([
          "ok\uFFFD\uFFFD!",
          "ü".repeat(8192),
          "ü".repeat(10_000 - 8192),
          "next",
        ]);
        return d;
      }),
    );
    expect(await stored(d.id)).toStrictEqual({
      eventSeq: 5n,
      logLines: 4,
      logBytes: 9 + 20_000 + 4,
      rows: 4,
      rowBytes: 9 + 20_000 + 4,
    });
  });

  it("keeps the tail within the line budget; status and step events stay", async () => {
    const limits = { maxLines: 4, maxBytes: 1024 * 1024 };
    const d = await run(
      Effect.gen(function* () {
        const d = yield* createDeployment(yield* createTenant());
        const log = yield* EventLog;
        const batch = (from: number, count: number) =>
          Array.from({ length: count }, (_, i) => line(`line ${from + i}`));
        yield* log.appendLogs(d.id, batch(1, 3));
        yield* (yield* DeploymentRepository).updateStatus(d.id, {
          from: ["PENDING"],
          to: "BUILDING",
          at: NOW,
        });
        expect(yield* log.appendLogs(d.id, batch(4, 2))).toStrictEqual({
          appended: 2,
          dropped: 1,
          lastSeq: 7n,
        });
        expect(yield* log.appendLogs(d.id, batch(6, 2))).toStrictEqual({
          appended: 2,
          dropped: 2,
          lastSeq: 9n,
        });
        expect(summary(yield* eventsOf(d.id))).toStrictEqual([
          [1, "status PENDING"],
          [5, "status BUILDING"],
          [6, "log BUILDING STDOUT line 4"],
          [7, "log BUILDING STDOUT line 5"],
          [8, "log BUILDING STDOUT line 6"],
          [9, "log BUILDING STDOUT line 7"],
        ]);
        // A batch larger than the budget keeps its own tail.
        expect(yield* log.appendLogs(d.id, batch(8, 6))).toStrictEqual({
          appended: 4,
          dropped: 6,
          lastSeq: 13n,
        });
        expect(summary(yield* eventsOf(d.id))).toStrictEqual([
          [1, "status PENDING"],
          [5, "status BUILDING"],
          [10, "log BUILDING STDOUT line 10"],
          [11, "log BUILDING STDOUT line 11"],
          [12, "log BUILDING STDOUT line 12"],
          [13, "log BUILDING STDOUT line 13"],
        ]);
        return d;
      }).pipe(withLimits(limits)),
    );
    const counters = await stored(d.id);
    expect(counters).toMatchObject({ eventSeq: 13n, logLines: 4, rows: 4 });
    expect(counters.logBytes).toBe(counters.rowBytes);
  });

  it("keeps the tail within the byte budget", async () => {
    const limits = { maxLines: 1000, maxBytes: 3 * 16_384 };
    const d = await run(
      Effect.gen(function* () {
        const d = yield* createDeployment(yield* createTenant());
        const log = yield* EventLog;
        // 10,000 bytes each: four fit in 49152 bytes, the fifth does not.
        for (const n of [1, 2, 3, 4, 5, 6])
          yield* log.appendLogs(d.id, [line(String(n).repeat(10_000))]);
        expect(
          (yield* eventsOf(d.id, { kinds: ["Log"] })).map((e) =>
            e.body._tag === "Log" ? e.body.line.text.charAt(0) : "",
          ),
        ).toStrictEqual(["3", "4", "5", "6"]);
        // One small line more fits; one large more pushes the oldest out.
        yield* log.appendLogs(d.id, [line("small")]);
        expect((yield* eventsOf(d.id, { kinds: ["Log"] })).length).toBe(5);
        yield* log.appendLogs(d.id, [line("7".repeat(10_000))]);
        expect(
          (yield* eventsOf(d.id, { kinds: ["Log"] })).map((e) =>
            e.body._tag === "Log" ? e.body.line.text.charAt(0) : "",
          ),
        ).toStrictEqual(["4", "5", "6", "s", "7"]);
        return d;
      }).pipe(withLimits(limits)),
    );
    expect(await stored(d.id)).toStrictEqual({
      eventSeq: 9n,
      logLines: 5,
      logBytes: 40_005,
      rows: 5,
      rowBytes: 40_005,
    });
  });

  /** A build log as a poller reads it: lines with the byte offset each starts at. */
  const fromOffset = (texts: ReadonlyArray<string>, start = 0) => {
    let offset = start;
    return texts.map((text) => {
      const at = offset;
      offset += Buffer.byteLength(text) + 1;
      return line(text, { offset: at });
    });
  };

  it("appendLogs with source offsets: a repeated batch stores nothing, an overlapping one only its new lines", async () => {
    const d = await run(
      Effect.gen(function* () {
        const d = yield* createDeployment(yield* createTenant());
        const log = yield* EventLog;
        const first = fromOffset(["Step 1/3 : FROM scratch", "Step 2/3 : RUN build"]);
        expect(yield* log.appendLogs(d.id, first)).toStrictEqual({
          appended: 2,
          dropped: 0,
          lastSeq: 3n,
        });
        // The same poll again (its step replayed after a crash): nothing stored twice.
        expect(yield* log.appendLogs(d.id, first)).toStrictEqual({
          appended: 0,
          dropped: 0,
          lastSeq: 3n,
        });
        // A replayed poll that read further (the log grew meanwhile): only the new lines.
        const grown = fromOffset([
          "Step 1/3 : FROM scratch",
          "Step 2/3 : RUN build",
          "BUILD-RAN",
          "Step 3/3 : CMD",
        ]);
        expect(yield* log.appendLogs(d.id, grown)).toStrictEqual({
          appended: 2,
          dropped: 0,
          lastSeq: 5n,
        });
        // Lines without an offset (Ferry's own) are always appended.
        expect(yield* log.appendLogs(d.id, [line("note", { stream: "SYSTEM" })])).toMatchObject({
          appended: 1,
        });
        expect(yield* log.appendLogs(d.id, grown.slice(1))).toMatchObject({ appended: 0 });
        expect(summary(yield* eventsOf(d.id))).toStrictEqual([
          [1, "status PENDING"],
          [2, "log BUILDING STDOUT Step 1/3 : FROM scratch"],
          [3, "log BUILDING STDOUT Step 2/3 : RUN build"],
          [4, "log BUILDING STDOUT BUILD-RAN"],
          [5, "log BUILDING STDOUT Step 3/3 : CMD"],
          [6, "log BUILDING SYSTEM note"],
        ]);
        return d;
      }),
    );
    expect(await stored(d.id)).toMatchObject({ eventSeq: 6n, logLines: 5, rows: 5 });
  });

  it("appendLogs with source offsets: the same batch from concurrent writers is stored once", async () => {
    await run(
      Effect.gen(function* () {
        const d = yield* createDeployment(yield* createTenant());
        const log = yield* EventLog;
        const batch = fromOffset(Array.from({ length: 5 }, (_, i) => `line ${i}`));
        const results = yield* Effect.all(
          Array.from({ length: 4 }, () => log.appendLogs(d.id, batch)),
          { concurrency: "unbounded" },
        );
        expect(results.map((r) => r.appended).sort()).toStrictEqual([0, 0, 0, 5]);
        expect(
          (yield* eventsOf(d.id, { kinds: ["Log"] })).map((e) =>
            e.body._tag === "Log" ? e.body.line.text : "",
          ),
        ).toStrictEqual(["line 0", "line 1", "line 2", "line 3", "line 4"]);
      }),
    );
  });

  it("appendLogs with source offsets: trimmed lines are not stored again by a replay", async () => {
    const limits = { maxLines: 2, maxBytes: 1024 * 1024 };
    await run(
      Effect.gen(function* () {
        const d = yield* createDeployment(yield* createTenant());
        const log = yield* EventLog;
        const batch = fromOffset(["a", "b", "c", "d"]);
        yield* log.appendLogs(d.id, batch.slice(0, 2));
        yield* log.appendLogs(d.id, batch.slice(2));
        expect(yield* log.appendLogs(d.id, batch)).toMatchObject({ appended: 0, dropped: 0 });
        expect(
          (yield* eventsOf(d.id, { kinds: ["Log"] })).map((e) =>
            e.body._tag === "Log" ? e.body.line.text : "",
          ),
        ).toStrictEqual(["c", "d"]);
      }).pipe(withLimits(limits)),
    );
  });

  it("concurrent writers get seqs without gaps, and a reader never sees a later seq before an earlier one", async () => {
    await run(
      Effect.gen(function* () {
        const tenant = yield* createTenant();
        const d = yield* createDeployment(tenant);
        const log = yield* EventLog;
        const deployments = yield* DeploymentRepository;
        // A reader that follows the log while it is written: each read must continue exactly
        // where the previous one stopped (a seq assigned before an earlier one commits would
        // show up as a gap).
        let cursor = 0n;
        const gaps: Array<string> = [];
        let writing = true;
        const reader = yield* Effect.fork(
          Effect.gen(function* () {
            while (writing || cursor < 23n) {
              const page = yield* log.list(d.id, { afterSeq: cursor, limit: 1000 });
              for (const event of page) {
                if (event.seq !== cursor + 1n) gaps.push(`${cursor} → ${event.seq}`);
                cursor = event.seq;
              }
              yield* Effect.sleep(1);
            }
          }),
        );
        const writes = [
          ...Array.from({ length: 20 }, (_, i) =>
            log.appendLogs(d.id, [line(`line ${i}`)]).pipe(Effect.map((r) => r.lastSeq)),
          ),
          deployments
            .updateStatus(d.id, { from: ["PENDING"], to: "DEPLOYING", at: NOW })
            .pipe(Effect.as(0n)),
          deployments
            .startStep({ id: newId("step"), deploymentId: d.id, name: "DEPLOYING", at: NOW })
            .pipe(Effect.as(0n)),
        ];
        const seqs = yield* Effect.all(writes, { concurrency: "unbounded" });
        writing = false;
        yield* Fiber.join(reader);
        expect(gaps).toStrictEqual([]);
        const logSeqs = seqs.slice(0, 20).sort((a, b) => (a < b ? -1 : 1));
        expect(new Set(logSeqs).size).toBe(20);
        const all = yield* eventsOf(d.id);
        expect(all.map((e) => e.seq)).toStrictEqual(
          Array.from({ length: 23 }, (_, i) => BigInt(i + 1)),
        );
        expect(all.filter((e) => e.body._tag === "Log").map((e) => e.seq)).toStrictEqual(logSeqs);
      }),
    );
  });
});
