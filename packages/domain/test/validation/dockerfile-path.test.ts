import { describe, expect, it } from "@effect/vitest";
import {
  DEFAULT_DOCKERFILE_PATH,
  DOCKERFILE_PATH_MAX_LENGTH,
  DockerfilePath,
  normalizeDockerfilePath,
} from "../../src/validation/dockerfile-path.ts";
import { decodeOk, decodeViolations } from "../helpers.ts";

const problem = (message: string) => [{ field: "request", message }];
const escapes = (path: string) =>
  `must stay inside the build context ("${path}" escapes it with '..')`;
const notAFile = (path: string) => `must name a file inside the build context (got "${path}")`;
const absolute = (path: string) =>
  `must be relative to the build context (got absolute path "${path}")`;

describe("DockerfilePath", () => {
  it("defaults an empty value to ./Dockerfile, normalized to Dockerfile", () => {
    expect(DEFAULT_DOCKERFILE_PATH).toBe("./Dockerfile");
    expect(decodeOk(DockerfilePath, "")).toBe("Dockerfile");
    expect(decodeOk(DockerfilePath, "./Dockerfile")).toBe("Dockerfile");
  });

  it.each([
    ["Dockerfile", "Dockerfile"],
    ["docker/web.Dockerfile", "docker/web.Dockerfile"],
    ["./docker/web.Dockerfile", "docker/web.Dockerfile"],
    ["a/../Dockerfile", "Dockerfile"],
    ["./docker/../Dockerfile", "Dockerfile"],
    ["a/b/../../c/Dockerfile", "c/Dockerfile"],
    ["a//b/./Dockerfile", "a/b/Dockerfile"],
    ["..Dockerfile", "..Dockerfile"],
    ["dir.d/.Dockerfile", "dir.d/.Dockerfile"],
  ])("normalizes %s to %s", (input, expected) => {
    expect(decodeOk(DockerfilePath, input)).toBe(expected);
  });

  it.each(["..", "../x", "../Dockerfile", "a/../../x", "./../Dockerfile", "a/b/../../../x"])(
    "rejects %s as escaping the build context",
    (path) => {
      expect(decodeViolations(DockerfilePath, path)).toEqual(problem(escapes(path)));
    },
  );

  it.each(["/", "/Dockerfile", "/etc/passwd", "C:/Dockerfile", "c:Dockerfile", "Z:"])(
    "rejects the absolute path %s",
    (path) => {
      expect(decodeViolations(DockerfilePath, path)).toEqual(problem(absolute(path)));
    },
  );

  it.each(["C:\\Dockerfile", "docker\\Dockerfile", "\\\\server\\share\\Dockerfile"])(
    "rejects the backslash in %s",
    (path) => {
      expect(decodeViolations(DockerfilePath, path)).toEqual(
        problem("must use '/' as the separator"),
      );
    },
  );

  it.each([".", "./", "docker/", "docker/.", "docker/./", "a/b/..", "a/.."])(
    "rejects %s as not naming a file",
    (path) => {
      expect(decodeViolations(DockerfilePath, path)).toEqual(problem(notAFile(path)));
    },
  );

  it("rejects NUL characters", () => {
    expect(decodeViolations(DockerfilePath, "Docker\u0000file")).toEqual(
      problem("must not contain NUL characters"),
    );
  });

  it("accepts 1024 characters and rejects 1025, naming the limit", () => {
    expect(DOCKERFILE_PATH_MAX_LENGTH).toBe(1024);
    const at = `${"d/".repeat(511)}df`; // 1024 characters
    expect(at.length).toBe(1024);
    expect(decodeOk(DockerfilePath, at)).toBe(at);
    expect(decodeViolations(DockerfilePath, `${at}x`)).toEqual(
      problem("must be at most 1024 characters"),
    );
  });
});

describe("normalizeDockerfilePath", () => {
  it("returns the path or the problem as data", () => {
    expect(normalizeDockerfilePath("./x/../y")).toEqual({ path: "y" });
    expect(normalizeDockerfilePath("../y")).toEqual({ problem: escapes("../y") });
  });
});
