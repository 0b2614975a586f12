/** Redaction, image tags, failure classification and the bounded log, without an engine. */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  classifyBuildFailure,
  ferryImageTag,
  imageTagProblem,
  makeRedactor,
} from "../src/index.ts";
import { BuildLogWriter, readLogLines } from "../src/job-log.ts";

describe("makeRedactor", () => {
  it("hides secret values anywhere, short ones only after their name", () => {
    const redact = makeRedactor({
      API_TOKEN: "tok-123456",
      FLAG: "on",
      KEY: "-----BEGIN KEY-----\nAAAAbbbbCCCC\n-----END KEY-----",
      QUOTED: 'pa"ss',
    });
    expect(redact("curl -H 'Authorization: tok-123456' and API_TOKEN=tok-123456")).toBe(
      "curl -H 'Authorization: <redacted>' and API_TOKEN=<redacted>",
    );
    expect(redact("FLAG=on, turned on")).toBe("FLAG=<redacted>, turned on");
    expect(redact("line AAAAbbbbCCCC of a key")).toBe("line <redacted> of a key");
    expect(redact('error: "pa\\"ss" is wrong, pa"ss')).toBe(
      'error: "<redacted>" is wrong, <redacted>',
    );
    expect(makeRedactor({})("unchanged")).toBe("unchanged");
  });
});

describe("image tags", () => {
  it("accepts references with a tag and says what is wrong with others", () => {
    expect(imageTagProblem("ferry/prj_01abc:dep_01XYZ")).toBeUndefined();
    expect(imageTagProblem("localhost:5000/team/app:v1.2")).toBeUndefined();
    expect(imageTagProblem("ferry/app")).toContain("no tag");
    expect(imageTagProblem("ferry/App:1")).toContain("must be lowercase");
    expect(imageTagProblem("ferry/app:-bad")).toContain("its tag");
    expect(imageTagProblem("ferry/app@sha256:abc")).toContain("not a digest");
    expect(imageTagProblem("ferry//app:1")).toContain("name component");
    expect(ferryImageTag("prj_01JABCDEF", "dep_01JXYZ")).toBe(
      "localhost/ferry/prj_01jabcdef:dep_01jxyz",
    );
    expect(imageTagProblem(ferryImageTag("prj_01JABCDEF", "dep_01JXYZ"))).toBeUndefined();
  });
});

describe("classifyBuildFailure (answers recorded from Podman 4.3 and Docker)", () => {
  it("a Dockerfile syntax error", () => {
    const failure = classifyBuildFailure(
      'building at STEP "FOO ": Build error: Unknown instruction: "FOO" &imagebuilder.Step{Env:[]string{"PATH=/usr/bin"}, Command:"foo"}\n',
      ["STEP 1/2: FROM scratch", "STEP 2/2: FOO bar"],
    );
    expect(failure.kind).toBe("dockerfile");
    expect(failure.message).toBe(
      'the Dockerfile is invalid at "FOO" (step 2/2): Unknown instruction: "FOO"; fix it and deploy again',
    );
    expect(
      classifyBuildFailure("dockerfile parse error line 2: unknown instruction: FOO", []).kind,
    ).toBe("dockerfile");
    expect(classifyBuildFailure("no FROM statement found", []).message).toBe(
      "the Dockerfile is invalid: no FROM statement found; fix it and deploy again",
    );
  });

  it("a failing RUN, with its output", () => {
    const failure = classifyBuildFailure(
      `building at STEP "RUN make": while running runtime: exit status 2\n`,
      [
        "STEP 3/4: COPY . /src",
        "--> 1234abcd",
        "STEP 4/4: RUN make",
        "cc main.c",
        "main.c:1: error",
      ],
    );
    expect(failure).toEqual({
      kind: "run-step",
      message: `the build step "RUN make" (step 4/4) failed with exit code 2; its last output:\ncc main.c\nmain.c:1: error`,
      step: "RUN make",
      outputTail: ["cc main.c", "main.c:1: error"],
    });
    expect(
      classifyBuildFailure("The command '/bin/sh -c make' returned a non-zero code: 2", [
        "Step 2/2 : RUN make",
      ]).kind,
    ).toBe("run-step");
  });

  it("another engine failure, without the engine's temporary paths", () => {
    const failure = classifyBuildFailure(
      'building at STEP "COPY missing /x": checking on sources under "/var/tmp/libpod_builder123/build": copier: stat: "/missing": no such file or directory',
      ["STEP 2/2: COPY missing /x"],
    );
    expect(failure.kind).toBe("engine");
    expect(failure.message).toBe(
      'the build failed at "COPY missing /x" (step 2/2): checking on sources under "": copier: stat: "/missing": no such file or directory',
    );
  });
});

describe("the bounded build log", () => {
  it("keeps the head and the tail within maxLogBytes, with offsets that stay valid", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ferry-log-"));
    try {
      const path = join(dir, "build.log");
      const max = 16 * 1024;
      const log = new BuildLogWriter(path, max);
      for (let i = 0; i < 2000; i++) log.append(`line ${i} ${"x".repeat(40)}`);
      const live = await readLogLines(path, 0, 1024 * 1024);
      expect(live.lines[0]).toMatch(/^line 0 /);
      expect(live.lines.at(-1)).toContain("output is skipped from here");
      log.finish();
      const content = await readFile(path, "utf8");
      expect(Buffer.byteLength(content)).toBeLessThanOrEqual(max);
      const rest = await readLogLines(path, live.nextOffset, 1024 * 1024);
      expect(rest.lines[0]).toMatch(
        /^\[ferry\] \d+ lines \(.*\) of build output skipped; the last \d+ lines follow$/,
      );
      expect(rest.lines.at(-1)).toMatch(/^line 1999 /);
      expect(rest.nextOffset).toBe(Buffer.byteLength(content));
      // Nothing new: the same offset comes back.
      expect(await readLogLines(path, rest.nextOffset, 1024 * 1024)).toEqual({
        lines: [],
        offsets: [],
        nextOffset: rest.nextOffset,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("gives each line the byte offset it starts at (multi-byte text and empty lines included)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ferry-log-"));
    try {
      const path = join(dir, "build.log");
      await writeFile(path, "ä€\n\nlast\n");
      expect(await readLogLines(path, 0, 65536)).toEqual({
        lines: ["ä€", "", "last"],
        offsets: [0, 6, 7],
        nextOffset: 12,
      });
      // From a later offset, offsets stay absolute.
      expect(await readLogLines(path, 6, 65536)).toEqual({
        lines: ["", "last"],
        offsets: [6, 7],
        nextOffset: 12,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("returns only complete lines", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ferry-log-"));
    try {
      const path = join(dir, "build.log");
      const { appendFile } = await import("node:fs/promises");
      await appendFile(path, "one\ntw");
      expect(await readLogLines(path, 0, 65536)).toEqual({
        lines: ["one"],
        offsets: [0],
        nextOffset: 4,
      });
      await appendFile(path, "o\n");
      expect(await readLogLines(path, 4, 65536)).toEqual({
        lines: ["two"],
        offsets: [4],
        nextOffset: 8,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
