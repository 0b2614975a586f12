/** ARG parsing and the choice of build arguments: declared plain variables only, never secrets. */
import { describe, expect, it } from "vitest";
import { parseDockerfileArgs, selectBuildArgs } from "../src/index.ts";

describe("parseDockerfileArgs", () => {
  it("reads ARGs of every stage, any case, with and without defaults", () => {
    const text = [
      "# syntax=docker/dockerfile:1",
      "ARG BASE=scratch",
      "FROM $BASE AS build",
      "arg NODE_ENV=production",
      'Arg LABEL="two words" EMPTY= PLAIN',
      "FROM scratch",
      "  ARG  GREETING",
      "ARG 9INVALID",
    ].join("\n");
    expect(parseDockerfileArgs(text)).toEqual([
      { name: "BASE", defaultValue: "scratch", line: 2 },
      { name: "NODE_ENV", defaultValue: "production", line: 4 },
      { name: "LABEL", defaultValue: "two words", line: 5 },
      { name: "EMPTY", defaultValue: "", line: 5 },
      { name: "PLAIN", defaultValue: undefined, line: 5 },
      { name: "GREETING", defaultValue: undefined, line: 7 },
    ]);
  });

  it("joins line continuations, skipping comments inside them", () => {
    const text = [
      "FROM scratch",
      "ARG ONE=1 \\",
      "# a comment in the middle",
      "    TWO=2 \\  ",
      "",
      "    THREE",
      "RUN echo \\",
      "  ARG NOT_AN_ARG",
    ].join("\n");
    expect(parseDockerfileArgs(text).map((a) => a.name)).toEqual(["ONE", "TWO", "THREE"]);
  });

  it("honours the escape directive and skips heredoc bodies", () => {
    const text = [
      "# escape=`",
      "FROM scratch",
      "ARG A=1 `",
      "  B=2",
      "RUN <<EOF",
      "ARG INSIDE_A_HEREDOC",
      "EOF",
      "ARG C",
    ].join("\r\n");
    expect(parseDockerfileArgs(text).map((a) => a.name)).toEqual(["A", "B", "C"]);
  });
});

describe("selectBuildArgs", () => {
  const dockerfile = "FROM scratch\nARG GREETING\nARG API_TOKEN\nARG MISSING\n";

  it("passes declared plain variables, never undeclared ones or secrets", () => {
    const selected = selectBuildArgs(dockerfile, {
      plain: { GREETING: "hello", DATABASE_HOST: "db", NODE_ENV: "production" },
      secretKeys: ["API_TOKEN"],
    });
    expect(selected).toEqual({
      buildArgs: { GREETING: "hello" },
      secretArgs: ["API_TOKEN"],
      undeclared: ["DATABASE_HOST", "NODE_ENV"],
    });
  });

  it("treats a name that is both plain and secret as secret", () => {
    const selected = selectBuildArgs(dockerfile, {
      plain: { API_TOKEN: "looks-plain", GREETING: "hi" },
      secretKeys: ["API_TOKEN"],
    });
    expect(selected.buildArgs).toEqual({ GREETING: "hi" });
    expect(selected.secretArgs).toEqual(["API_TOKEN"]);
  });
});
