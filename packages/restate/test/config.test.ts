/** The engine's configuration, checked when the engine is made (no server needed). */
import { WorkflowEngine } from "@ferry/domain";
import { Effect, Exit } from "effect";
import { describe, expect, it } from "vitest";
import { layer, makeWorkflowEngine } from "../src/engine.ts";

const valid = {
  ingressUrl: "http://127.0.0.1:8080/",
  adminUrl: "http://127.0.0.1:9070",
  requestTimeoutMs: 5_000,
};

describe("RestateEngineConfig", () => {
  it("builds the layer from a valid config", async () => {
    const exit = await Effect.runPromiseExit(
      Effect.provide(WorkflowEngine, layer(valid)).pipe(Effect.asVoid),
    );
    expect(Exit.isSuccess(exit)).toBe(true);
  });

  it.each([
    [{ ...valid, ingressUrl: "127.0.0.1:8080" }, "must be an absolute URL"],
    [{ ...valid, adminUrl: "ftp://127.0.0.1" }, "must be an http:// or https:// URL"],
    [{ ...valid, requestTimeoutMs: 0 }, "a positive number"],
  ])("rejects %o", (config, message) => {
    expect(() => makeWorkflowEngine(config)).toThrow(message);
  });
});
