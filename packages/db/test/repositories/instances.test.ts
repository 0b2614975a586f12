/** InstanceRepository on Prisma keeps the port's promises. */
import { type Instance, InstanceRepository } from "@ferry/domain";
import { Effect } from "effect";
import { describe, expect, it } from "vitest";
import { testDatabaseKinds } from "../../src/testing.ts";
import { createDeployment, createTenant, NOW, newId, useRepositories } from "./harness.ts";

describe.each(testDatabaseKinds())("on %s", (kind) => {
  const { run } = useRepositories(kind);

  const deployment = () =>
    Effect.gen(function* () {
      const tenant = yield* createTenant();
      return yield* createDeployment(tenant, { regions: ["local-1", "local-2"] });
    });

  const makeInstance = (
    deploymentId: Instance["deploymentId"],
    overrides: Partial<Instance> = {},
  ): Instance => ({
    id: newId("instance"),
    deploymentId,
    region: "local-1",
    containerId: `container-${newId("instance")}`,
    host: "127.0.0.1",
    port: 41000,
    status: "STARTING",
    createdAt: NOW,
    updatedAt: NOW,
    ...overrides,
  });

  it("records instances and lists them by region, then creation", async () => {
    await run(
      Effect.gen(function* () {
        const instances = yield* InstanceRepository;
        const { id } = yield* deployment();
        const second = makeInstance(id, { region: "local-2", createdAt: NOW });
        const first = makeInstance(id, { region: "local-1", createdAt: NOW + 1 });
        const noPort = makeInstance(id, { region: "local-1", createdAt: NOW + 2 });
        const { port: _, ...withoutPort } = noPort;
        expect(yield* instances.create(second)).toStrictEqual(second);
        yield* instances.create(first);
        expect(yield* instances.create(withoutPort)).toStrictEqual(withoutPort);
        expect(yield* instances.listByDeployment(id)).toStrictEqual([first, withoutPort, second]);
        expect(yield* instances.listByDeployment(newId("deployment"))).toStrictEqual([]);
      }),
    );
  });

  it("creating the same container twice returns the first row and writes nothing", async () => {
    await run(
      Effect.gen(function* () {
        const instances = yield* InstanceRepository;
        const { id } = yield* deployment();
        const first = makeInstance(id);
        yield* instances.create(first);
        const again = yield* instances.create({
          ...first,
          id: newId("instance"),
          port: 42000,
          status: "RUNNING",
        });
        expect(again).toStrictEqual(first);
        expect(yield* instances.listByDeployment(id)).toStrictEqual([first]);
      }),
    );
  });

  it("updates the status of all, some, or those in given statuses", async () => {
    await run(
      Effect.gen(function* () {
        const instances = yield* InstanceRepository;
        const { id } = yield* deployment();
        const other = yield* deployment();
        const a = yield* instances.create(makeInstance(id));
        const b = yield* instances.create(makeInstance(id, { createdAt: NOW + 1 }));
        const elsewhere = yield* instances.create(makeInstance(other.id));

        expect(
          yield* instances.updateStatus({
            deploymentId: id,
            to: "RUNNING",
            at: NOW + 5,
            ids: [a.id],
          }),
        ).toBe(1);
        expect((yield* instances.listByDeployment(id)).map((i) => i.status)).toStrictEqual([
          "RUNNING",
          "STARTING",
        ]);
        expect(
          yield* instances.updateStatus({
            deploymentId: id,
            to: "FAILED",
            at: NOW + 6,
            from: ["STARTING"],
          }),
        ).toBe(1);
        expect(
          yield* instances.updateStatus({ deploymentId: id, to: "STOPPED", at: NOW + 7 }),
        ).toBe(2);
        const after = yield* instances.listByDeployment(id);
        expect(after.map((i) => [i.id, i.status, i.updatedAt])).toStrictEqual([
          [a.id, "STOPPED", NOW + 7],
          [b.id, "STOPPED", NOW + 7],
        ]);
        expect(yield* instances.listByDeployment(other.id)).toStrictEqual([elsewhere]);
      }),
    );
  });
});
