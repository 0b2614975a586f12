/** The Restate glue: how failures become retries or TerminalErrors, in-flight tracking, ids. */
import {
  ContainerRuntimeError,
  DeploymentId,
  InstanceId,
  SecretBoxError,
  StepId,
} from "@ferry/domain";
import { TerminalError } from "@restatedev/restate-sdk";
import { Cause, Effect, Schema } from "effect";
import { describe, expect, it } from "vitest";
import { InFlight, Permanent, restateIds, toRunError } from "../../src/objects/durable.ts";

describe("toRunError", () => {
  const fail = (error: unknown) => toRunError("step", Cause.fail(error));

  it("does-not-retry failures become TerminalError with their message", () => {
    for (const [error, message] of [
      [new Permanent({ message: "image not found: x" }), "image not found: x"],
      [new ContainerRuntimeError({ reason: "no such image", retryable: false }), "no such image"],
      [new SecretBoxError({ reason: "unknown key k9" }), "unknown key k9"],
    ] as const) {
      const mapped = fail(error);
      expect(mapped).toBeInstanceOf(TerminalError);
      expect(mapped.message).toBe(message);
    }
  });

  it("transient failures and defects stay retryable (plain Error)", () => {
    const transient = fail(new ContainerRuntimeError({ reason: "engine busy", retryable: true }));
    expect(transient).not.toBeInstanceOf(TerminalError);
    expect(transient.message).toBe("engine busy");
    const defect = toRunError("load deployment", Cause.die(new Error("connection refused")));
    expect(defect).not.toBeInstanceOf(TerminalError);
    expect(defect.message).toBe("load deployment: connection refused");
    const timeout = fail(new Cause.TimeoutException());
    expect(timeout).not.toBeInstanceOf(TerminalError);
    expect(timeout.message).toBe("step: no answer in time");
  });
});

describe("InFlight", () => {
  it("settle waits for every tracked promise of a key, including ones added meanwhile", async () => {
    const inFlight = new InFlight();
    const done: string[] = [];
    const later = (ms: number, name: string) =>
      new Promise<void>((resolve) =>
        setTimeout(() => {
          done.push(name);
          resolve();
        }, ms),
      );
    void inFlight.track("dep", later(30, "a"));
    void inFlight.track("other", later(500, "other"));
    setTimeout(() => void inFlight.track("dep", later(60, "b")), 10);
    expect(await inFlight.settle("dep", 2_000)).toBe(true);
    expect(done).toStrictEqual(["a", "b"]);
  });

  it("settle gives up after its timeout; a rejected promise counts as settled", async () => {
    const inFlight = new InFlight();
    void inFlight.track("dep", new Promise(() => {}));
    expect(await inFlight.settle("dep", 50)).toBe(false);
    void inFlight.track("x", Promise.reject(new Error("boom"))).catch(() => {});
    expect(await inFlight.settle("x", 50)).toBe(true);
  });
});

describe("restateIds", () => {
  /** A stand-in for ctx.rand: seeded like Restate's (by the invocation), deterministic. */
  const fakeCtx = (seed: number) => {
    let state = seed;
    return {
      rand: {
        random: () => {
          state = (state * 1103515245 + 12345) % 2 ** 31;
          return state / 2 ** 31;
        },
      },
    } as never;
  };

  it("makes valid ids of each kind, the same sequence for the same seed and time", () => {
    const make = () => {
      const ids = restateIds(fakeCtx(42), Date.UTC(2026, 10, 27));
      return Effect.runSync(
        Effect.all([ids.next("deployment"), ids.next("step"), ids.next("instance")]),
      );
    };
    const first = make();
    expect(make()).toStrictEqual(first);
    const [deployment, step, instance] = first;
    expect(Schema.is(DeploymentId)(deployment)).toBe(true);
    expect(Schema.is(StepId)(step)).toBe(true);
    expect(Schema.is(InstanceId)(instance)).toBe(true);
    expect(new Set(first.map((id) => id.slice(id.indexOf("_") + 11))).size).toBe(3);
  });
});
