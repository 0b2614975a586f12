/** EventLog on Prisma keeps the port's promises: increasing seq, reads after a cursor, oldest first. */
import { type DeploymentEvent, type DeploymentId, EventLog } from "@ferry/domain";
import { Effect } from "effect";
import { describe, expect, it } from "vitest";
import { testDatabaseKinds } from "../../src/testing.ts";
import {
  createDeployment,
  createTenant,
  NOW,
  newId,
  type Tenant,
  useRepositories,
} from "./harness.ts";

const event = (
  tenant: Tenant,
  deploymentId: DeploymentId | undefined,
  type: string,
  payload: unknown = {},
  createdAt = NOW,
): Omit<DeploymentEvent, "seq"> => ({
  id: newId("event"),
  workspaceId: tenant.workspace.id,
  projectId: tenant.project.id,
  ...(deploymentId === undefined ? {} : { deploymentId }),
  type,
  payload,
  createdAt,
});

describe.each(testDatabaseKinds())("EventLog on %s", (kind) => {
  const { run } = useRepositories(kind);

  it("append returns the event with a strictly increasing seq", async () => {
    await run(
      Effect.gen(function* () {
        const tenant = yield* createTenant();
        const d = yield* createDeployment(tenant);
        const log = yield* EventLog;
        const inputs = [
          event(tenant, d.id, "deployment.accepted", { status: "PENDING" }, NOW),
          event(tenant, undefined, "project.settings", { replicasPerRegion: 2 }, NOW + 1),
          event(tenant, d.id, "step.started", { step: "BUILDING" }, NOW + 2),
        ];
        const appended: Array<DeploymentEvent> = [];
        for (const input of inputs) appended.push(yield* log.append(input));
        expect(appended.map(({ seq: _, ...rest }) => rest)).toStrictEqual(inputs);
        const seqs = appended.map((e) => e.seq);
        for (const seq of seqs) expect(typeof seq).toBe("bigint");
        expect(seqs[0]).toBeGreaterThan(0n);
        expect(seqs[1]).toBeGreaterThan(seqs[0] ?? 0n);
        expect(seqs[2]).toBeGreaterThan(seqs[1] ?? 0n);
        // An event without a deployment has no deploymentId (not undefined, not null).
        expect("deploymentId" in (appended[1] ?? {})).toBe(false);
      }),
    );
  });

  it("listForDeployment: that deployment's events after the cursor, oldest first, at most `limit`", async () => {
    await run(
      Effect.gen(function* () {
        const tenant = yield* createTenant();
        const d1 = yield* createDeployment(tenant);
        const d2 = yield* createDeployment(tenant);
        const log = yield* EventLog;
        const e1 = yield* log.append(event(tenant, d1.id, "deployment.accepted"));
        yield* log.append(event(tenant, d2.id, "deployment.accepted"));
        yield* log.append(event(tenant, undefined, "project.promoted"));
        const e2 = yield* log.append(event(tenant, d1.id, "step.started", { step: "BUILDING" }));
        const e3 = yield* log.append(event(tenant, d1.id, "deployment.status", { to: "READY" }));

        expect(yield* log.listForDeployment(d1.id, 0n, 100)).toStrictEqual([e1, e2, e3]);
        expect(yield* log.listForDeployment(d1.id, e1.seq, 100)).toStrictEqual([e2, e3]);
        // The cursor need not be one of this deployment's events.
        expect(yield* log.listForDeployment(d1.id, e2.seq - 1n, 100)).toStrictEqual([e2, e3]);
        expect(yield* log.listForDeployment(d1.id, 0n, 1)).toStrictEqual([e1]);
        expect(yield* log.listForDeployment(d1.id, e1.seq, 1)).toStrictEqual([e2]);
        expect(yield* log.listForDeployment(d1.id, e3.seq, 100)).toStrictEqual([]);
        expect((yield* log.listForDeployment(d2.id, 0n, 100)).map((e) => e.type)).toStrictEqual([
          "deployment.accepted",
        ]);
        expect(yield* log.listForDeployment(newId("deployment"), 0n, 100)).toStrictEqual([]);
      }),
    );
  });

  it("payloads round-trip as JSON: objects, arrays, strings, numbers, booleans, null", async () => {
    const payloads: Array<unknown> = [
      { nested: { list: [1, "two", { three: 3 }], flag: true, nothing: null }, text: "日本語 🚀" },
      ["a", 1, false],
      "build.log line: ✓ done\n",
      42.5,
      false,
      null,
    ];
    await run(
      Effect.gen(function* () {
        const tenant = yield* createTenant();
        const d = yield* createDeployment(tenant);
        const log = yield* EventLog;
        for (const payload of payloads)
          yield* log.append(event(tenant, d.id, "build.log", payload));
        expect((yield* log.listForDeployment(d.id, 0n, 100)).map((e) => e.payload)).toStrictEqual(
          payloads,
        );
      }),
    );
  });

  it("concurrent appends get distinct seqs, and the log reads back in seq order", async () => {
    await run(
      Effect.gen(function* () {
        const tenant = yield* createTenant();
        const d = yield* createDeployment(tenant);
        const log = yield* EventLog;
        const appended = yield* Effect.forEach(
          Array.from({ length: 8 }, (_, i) => event(tenant, d.id, "build.log", { line: i })),
          (input) => log.append(input),
          { concurrency: "unbounded" },
        );
        const bySeq = [...appended].sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
        expect(new Set(appended.map((e) => e.seq)).size).toBe(8);
        expect(yield* log.listForDeployment(d.id, 0n, 100)).toStrictEqual(bySeq);
      }),
    );
  });
});
