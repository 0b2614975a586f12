import { describe, expect, it } from "@effect/vitest";
import {
  DockerImageReference,
  IMAGE_NAME_MAX_LENGTH,
  imageReferenceProblem,
} from "../../src/validation/docker-image.ts";
import { decodeOk, decodeViolations } from "../helpers.ts";

const DIGEST = `sha256:${"0123456789abcdef".repeat(4)}`;
const invalid = (reference: string) =>
  `"${reference}" is not a valid image reference (expected [registry/]name[:tag][@digest], name in lowercase)`;

describe("DockerImageReference", () => {
  it.each([
    "busybox",
    "busybox:latest",
    "library/busybox",
    "localhost/app:1",
    "localhost:5000/team/app:v1.2",
    "registry.example.com/team/sub/app:2024-01-01_rc.1",
    `ghcr.io/acme/web@${DIGEST}`,
    `ghcr.io/acme/web:1.0@${DIGEST}`,
    `busybox@${DIGEST}`,
    "my-app__x.y",
    "a--b/c",
    "[::1]:5000/app",
    "Registry.Example.COM/app",
    `app:${"t".repeat(128)}`,
    "app:_private",
    "app:V1",
  ])("accepts %s", (reference) => {
    expect(decodeOk(DockerImageReference, reference)).toBe(reference);
  });

  it.each([
    ["an uppercase repository", "Busybox"],
    ["an uppercase repository under a registry", "ghcr.io/Acme/web"],
    ["an empty tag", "app:"],
    ["a tag without a name", ":tag"],
    ["a space", "my app"],
    ["a trailing space", "busybox "],
    ["a tag of 129 characters", `app:${"t".repeat(129)}`],
    ["a tag starting with '.'", "app:.x"],
    ["a tag starting with '-'", "app:-x"],
    ["an empty digest", "app@"],
    ["a short digest", "app@sha256:abc"],
    ["a digest without algorithm", `app@${"a".repeat(64)}`],
    ["a leading '/'", "/app"],
    ["a trailing '/'", "app/"],
    ["a leading separator", "-app"],
    ["a trailing separator", "app-"],
    ["three underscores", "a___b"],
    ["a scheme", "https://ghcr.io/acme/web"],
    ["two tags", "app:1:2"],
  ])("rejects %s", (_label, reference) => {
    expect(decodeViolations(DockerImageReference, reference)).toEqual([
      { field: "request", message: invalid(reference) },
    ]);
  });

  it("rejects an empty reference", () => {
    expect(decodeViolations(DockerImageReference, "")).toEqual([
      { field: "request", message: "must not be empty" },
    ]);
  });

  it("accepts a name of exactly 255 characters and rejects 256, naming the limit", () => {
    expect(IMAGE_NAME_MAX_LENGTH).toBe(255);
    const name255 = `registry.example.com/${"a".repeat(255 - 21)}`;
    expect(name255.length).toBe(255);
    expect(decodeOk(DockerImageReference, `${name255}:v1`)).toBe(`${name255}:v1`);
    expect(decodeViolations(DockerImageReference, `${name255}a:v1`)).toEqual([
      { field: "request", message: "image name must be at most 255 characters (got 256)" },
    ]);
  });

  it("does not count the tag or digest in the name's length", () => {
    const reference = `${"a".repeat(255)}:${"t".repeat(128)}@${DIGEST}`;
    expect(imageReferenceProblem(reference)).toBeUndefined();
  });
});
