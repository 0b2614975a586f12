import { describe, expect, it } from "@effect/vitest";
import { Either } from "effect";
import { PreconditionFailed } from "../../src/errors.ts";
import type { DeploymentStatus } from "../../src/model/deployment.ts";
import {
  canTransition,
  isCancellable,
  isTerminal,
  nextStatuses,
  TERMINAL_STATUSES,
  transition,
} from "../../src/rules/deployment-lifecycle.ts";

const ALL: ReadonlyArray<DeploymentStatus> = [
  "PENDING",
  "BUILDING",
  "DEPLOYING",
  "NETWORK",
  "READY",
  "FAILED",
  "CANCELLED",
  "SUPERSEDED",
];

/** The whole table, written out: every pair not listed here is forbidden. */
const ALLOWED: ReadonlyArray<readonly [DeploymentStatus, DeploymentStatus]> = [
  ["PENDING", "BUILDING"],
  ["PENDING", "DEPLOYING"],
  ["PENDING", "FAILED"],
  ["PENDING", "CANCELLED"],
  ["PENDING", "SUPERSEDED"],
  ["BUILDING", "DEPLOYING"],
  ["BUILDING", "FAILED"],
  ["BUILDING", "CANCELLED"],
  ["DEPLOYING", "NETWORK"],
  ["DEPLOYING", "FAILED"],
  ["DEPLOYING", "CANCELLED"],
  ["NETWORK", "READY"],
  ["NETWORK", "FAILED"],
  ["NETWORK", "CANCELLED"],
];
const isAllowed = (from: DeploymentStatus, to: DeploymentStatus) =>
  ALLOWED.some(([a, b]) => a === from && b === to);
const FORBIDDEN = ALL.flatMap((from) =>
  ALL.filter((to) => to !== from && !isAllowed(from, to)).map((to) => [from, to] as const),
);

const reasonOf = (from: DeploymentStatus, to: DeploymentStatus): string => {
  const result = transition(from, to);
  if (Either.isRight(result)) throw new Error(`${from} → ${to} was accepted`);
  expect(result.left).toBeInstanceOf(PreconditionFailed);
  return result.left.reason;
};

describe("transition", () => {
  it.each(ALLOWED)("allows %s → %s", (from, to) => {
    expect(canTransition(from, to)).toBe(true);
    expect(transition(from, to)).toEqual(Either.right(to));
  });

  it.each(ALL)("accepts staying in %s (a replayed step)", (status) => {
    expect(transition(status, status)).toEqual(Either.right(status));
  });

  it("forbids every other pair", () => {
    expect(FORBIDDEN).toHaveLength(ALL.length * (ALL.length - 1) - ALLOWED.length);
    for (const [from, to] of FORBIDDEN) {
      expect(canTransition(from, to), `${from} → ${to}`).toBe(false);
      expect(Either.isLeft(transition(from, to)), `${from} → ${to}`).toBe(true);
    }
  });

  it.each([
    ["BUILDING", "PENDING"],
    ["DEPLOYING", "BUILDING"],
    ["NETWORK", "DEPLOYING"],
    ["PENDING", "NETWORK"],
    ["PENDING", "READY"],
    ["BUILDING", "NETWORK"],
    ["DEPLOYING", "READY"],
    ["BUILDING", "SUPERSEDED"],
    ["DEPLOYING", "SUPERSEDED"],
    ["NETWORK", "SUPERSEDED"],
  ] as const)("refuses %s → %s, naming both ends", (from, to) => {
    expect(reasonOf(from, to)).toBe(`a deployment cannot go from ${from} to ${to}`);
  });

  it.each([
    ["READY", "FAILED"],
    ["READY", "CANCELLED"],
    ["READY", "PENDING"],
    ["FAILED", "PENDING"],
    ["FAILED", "READY"],
    ["CANCELLED", "BUILDING"],
    ["CANCELLED", "FAILED"],
    ["SUPERSEDED", "PENDING"],
    ["SUPERSEDED", "CANCELLED"],
  ] as const)("refuses to leave the terminal %s (→ %s)", (from, to) => {
    expect(reasonOf(from, to)).toBe(`deployment is already ${from}; it cannot become ${to}`);
  });
});

describe("terminal statuses", () => {
  it("are READY, FAILED, CANCELLED and SUPERSEDED", () => {
    expect([...TERMINAL_STATUSES].sort()).toEqual(["CANCELLED", "FAILED", "READY", "SUPERSEDED"]);
    expect(ALL.filter(isTerminal)).toEqual(["READY", "FAILED", "CANCELLED", "SUPERSEDED"]);
  });

  it.each(["READY", "FAILED", "CANCELLED", "SUPERSEDED"] as const)("%s goes nowhere", (status) => {
    expect(nextStatuses(status)).toEqual([]);
  });

  it("every non-terminal status can fail and be cancelled", () => {
    for (const status of ALL.filter((s) => !isTerminal(s))) {
      expect(nextStatuses(status)).toContain("FAILED");
      expect(nextStatuses(status)).toContain("CANCELLED");
    }
  });
});

describe("SUPERSEDED", () => {
  it("is reachable only from PENDING", () => {
    expect(
      ALL.filter((from) => from !== "SUPERSEDED" && canTransition(from, "SUPERSEDED")),
    ).toEqual(["PENDING"]);
  });
});

describe("nextStatuses", () => {
  it("lists the table", () => {
    expect(nextStatuses("PENDING")).toEqual([
      "BUILDING",
      "DEPLOYING",
      "FAILED",
      "CANCELLED",
      "SUPERSEDED",
    ]);
    expect(nextStatuses("BUILDING")).toEqual(["DEPLOYING", "FAILED", "CANCELLED"]);
    expect(nextStatuses("DEPLOYING")).toEqual(["NETWORK", "FAILED", "CANCELLED"]);
    expect(nextStatuses("NETWORK")).toEqual(["READY", "FAILED", "CANCELLED"]);
  });
});

describe("isCancellable", () => {
  it.each([
    ["PENDING", true],
    ["BUILDING", true],
    ["DEPLOYING", true],
    ["NETWORK", true],
    ["READY", false],
    ["FAILED", false],
    ["CANCELLED", false],
    ["SUPERSEDED", false],
  ] as const)("%s → %s", (status, expected) => {
    expect(isCancellable(status)).toBe(expected);
  });
});
