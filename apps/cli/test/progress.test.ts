/** The deploy/watch display: plain lines off a terminal or with NO_COLOR, a live line on one. */
import { create } from "@bufbuild/protobuf";
import {
  DeploymentStatus,
  DeploymentStepStatus,
  type WatchDeploymentResponse,
  WatchDeploymentResponseSchema,
} from "@ferry/api";
import { describe, expect, it } from "vitest";
import { createProgress } from "../src/format/progress.ts";
import type { Io } from "../src/io.ts";

const events: Array<WatchDeploymentResponse> = [
  create(WatchDeploymentResponseSchema, {
    cursor: "1",
    event: { case: "status", value: { status: DeploymentStatus.BUILDING } },
  }),
  create(WatchDeploymentResponseSchema, {
    cursor: "2",
    event: {
      case: "step",
      value: { step: { name: "BUILDING", status: DeploymentStepStatus.RUNNING, startedAt: 1000n } },
    },
  }),
  create(WatchDeploymentResponseSchema, {
    cursor: "3",
    event: { case: "log", value: { step: "BUILDING", text: "STEP 1/2: FROM scratch" } },
  }),
  create(WatchDeploymentResponseSchema, {
    cursor: "4",
    event: {
      case: "step",
      value: {
        step: {
          name: "BUILDING",
          status: DeploymentStepStatus.SUCCEEDED,
          startedAt: 1000n,
          endedAt: 3500n,
        },
      },
    },
  }),
];

const render = (tty: boolean, env: Record<string, string> = {}, columns = 80) => {
  let text = "";
  const stream = { write: (chunk: string) => (text += chunk), isTTY: tty, columns };
  const io: Io = { stdout: stream, stderr: stream, stdin: process.stdin, env, cwd: "/" };
  const progress = createProgress(io, { json: false });
  for (const event of events) progress.onEvent(event);
  progress.stop();
  return text;
};

describe("createProgress", () => {
  it("prints one plain line per event without a terminal", () => {
    expect(render(false)).toBe(
      [
        "status BUILDING",
        "step BUILDING RUNNING",
        "  BUILDING | STEP 1/2: FROM scratch",
        "step BUILDING SUCCEEDED",
        "",
      ].join("\n"),
    );
  });

  it("has no spinner or colors with NO_COLOR, even on a terminal", () => {
    expect(render(true, { NO_COLOR: "1" })).not.toContain("\u001b");
  });

  it("shows finished steps with their duration and log lines on a terminal", () => {
    const text = render(true);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes are what is removed.
    const plain = text.replace(/\u001b\[[0-9;]*[A-Za-z]/g, "");
    expect(text).toContain("\u001b[32m✓");
    expect(plain).toContain("✓ BUILDING 2.5s\n");
    expect(plain).toContain("building | STEP 1/2: FROM scratch\n");
    expect(plain).toMatch(/⠋ BUILDING \d+\.\ds/);
  });

  it("draws the spinner line on a pseudo-terminal that reports 0 columns", () => {
    expect(render(true, {}, 0)).toMatch(/⠋ BUILDING/);
  });

  it("prints nothing with --json", () => {
    let text = "";
    const stream = { write: (chunk: string) => (text += chunk), isTTY: true };
    const progress = createProgress(
      { stdout: stream, stderr: stream, stdin: process.stdin, env: {}, cwd: "/" },
      { json: true },
    );
    for (const event of events) progress.onEvent(event);
    progress.stop();
    expect(text).toBe("");
  });
});
