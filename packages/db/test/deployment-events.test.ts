// The notification-based DeploymentEventFeed: the events trigger's notifications wake the
// waiters of that deployment (and no other), a lost connection wakes everyone, close() ends
// every wait. On PGlite, and on PostgreSQL when DATABASE_URL is set.
import { type DeploymentId, EventLog, Ids, type LogLineInput } from "@ferry/domain";
import { Effect, Exit, Fiber, Layer, ManagedRuntime } from "effect";
import { describe, expect, it } from "vitest";
import { startDeploymentEventFeed } from "../src/index.ts";
import { Db, RepositoriesLive } from "../src/repositories/index.ts";
import { testDatabaseKinds, withTestDatabase } from "../src/testing.ts";
import { createDeployment, createTenant } from "./repositories/harness.ts";

const line: LogLineInput = { step: "BUILDING", stream: "STDOUT", text: "hello", at: 1 };

/** Whether the fiber is still running after giving the database time to deliver. */
const stillWaiting = <A, E>(fiber: Fiber.RuntimeFiber<A, E>) =>
  Effect.sleep(150).pipe(
    Effect.zipRight(Fiber.poll(fiber)),
    Effect.map((exit) => exit._tag === "None"),
  );

describe.each(testDatabaseKinds())("the deployment event feed on %s", (kind) => {
  it("wakes the waiters of a deployment when its events commit, and only them", () =>
    withTestDatabase(
      async (db) => {
        const runtime = ManagedRuntime.make(
          RepositoriesLive.pipe(
            Layer.provide(Layer.succeed(Db, db.prisma)),
            Layer.provide(Ids.layer),
          ),
        );
        const events = startDeploymentEventFeed(db);
        try {
          await events.ready;
          await runtime.runPromise(
            Effect.gen(function* () {
              const tenant = yield* createTenant();
              const d1 = yield* createDeployment(tenant);
              const d2 = yield* createDeployment(tenant);
              const log = yield* EventLog;
              // Behind already (the PENDING event): completes at once.
              yield* events.feed.waitForEvents(d1.id, 0n);
              // Let the creations' notifications arrive (else a spurious wake-up, which is allowed).
              yield* Effect.sleep(200);
              const waiting = yield* Effect.fork(events.feed.waitForEvents(d1.id, 1n));
              expect(yield* stillWaiting(waiting)).toBe(true);
              yield* log.appendLogs(d2.id, [line]);
              expect(yield* stillWaiting(waiting)).toBe(true);
              yield* log.appendLogs(d1.id, [line]);
              yield* Fiber.join(waiting);
              expect(events.waiting()).toBe(0);
              // An interrupted wait leaves nothing behind.
              const abandoned = yield* Effect.fork(events.feed.waitForEvents(d1.id, 2n));
              yield* Effect.sleep(20);
              expect(events.waiting()).toBe(1);
              yield* Fiber.interrupt(abandoned);
              expect(events.waiting()).toBe(0);
              // An unknown deployment: wakes at once (the caller finds out it is gone).
              yield* events.feed.waitForEvents(
                "dep_01jdz8x4m3q7r2v5w9y0abcdef" as DeploymentId,
                0n,
              );
            }),
          );
        } finally {
          await events.close();
          await runtime.dispose();
        }
      },
      { kind },
    ));

  it("ends a wait after maxWaitMs, wakes everyone on a resync, and fails waits once closed", () =>
    withTestDatabase(
      async (db) => {
        const runtime = ManagedRuntime.make(
          RepositoriesLive.pipe(
            Layer.provide(Layer.succeed(Db, db.prisma)),
            Layer.provide(Ids.layer),
          ),
        );
        let resyncs = 0;
        const short = startDeploymentEventFeed(db, { maxWaitMs: 300 });
        const events = startDeploymentEventFeed(db, {
          onResync: () => {
            resyncs += 1;
          },
        });
        try {
          await Promise.all([short.ready, events.ready]);
          const d = await runtime.runPromise(
            Effect.flatMap(createTenant(), (tenant) => createDeployment(tenant)),
          );
          // (The notification of the creation may still be on its way: a spurious wake-up.)
          await new Promise((resolve) => setTimeout(resolve, 200));
          const started = Date.now();
          await runtime.runPromise(short.feed.waitForEvents(d.id, 1n));
          expect(Date.now() - started).toBeGreaterThanOrEqual(250);

          // A lost notification connection wakes every waiter (it may have missed events).
          if (db.kind === "postgres") {
            const waiting = runtime.runFork(events.feed.waitForEvents(d.id, 1n));
            await new Promise((resolve) => setTimeout(resolve, 100));
            expect(waiting.unsafePoll()).toBeNull();
            await db.prisma.$executeRawUnsafe(
              "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query ILIKE 'LISTEN%'",
            );
            await runtime.runPromise(Fiber.join(waiting));
            expect(resyncs).toBe(1);
          }

          const pending = runtime.runFork(events.feed.waitForEvents(d.id, 1n));
          await new Promise((resolve) => setTimeout(resolve, 50));
          await events.close();
          const exit = await runtime.runPromise(Fiber.await(pending));
          expect(Exit.isFailure(exit) && JSON.stringify(exit.cause)).toContain("EventFeedClosed");
          const after = await runtime.runPromiseExit(events.feed.waitForEvents(d.id, 0n));
          expect(Exit.isFailure(after)).toBe(true);
        } finally {
          await short.close();
          await events.close();
          await runtime.dispose();
        }
      },
      { kind },
    ));
});
