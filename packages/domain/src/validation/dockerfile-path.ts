/** The Dockerfile's path inside a build context: relative, and never outside the context. */
import { ParseResult, Schema } from "effect";

export const DEFAULT_DOCKERFILE_PATH = "./Dockerfile";
export const DOCKERFILE_PATH_MAX_LENGTH = 1024;

type Normalized = { readonly path: string } | { readonly problem: string };

/** Resolves `.` and `..` segments; `./docker/../Dockerfile` → `Dockerfile`. */
export const normalizeDockerfilePath = (input: string): Normalized => {
  if (input.length > DOCKERFILE_PATH_MAX_LENGTH)
    return { problem: `must be at most ${DOCKERFILE_PATH_MAX_LENGTH} characters` };
  if (input.includes("\u0000")) return { problem: "must not contain NUL characters" };
  if (input.includes("\\")) return { problem: "must use '/' as the separator" };
  if (input.startsWith("/") || /^[A-Za-z]:/.test(input))
    return { problem: `must be relative to the build context (got absolute path "${input}")` };
  const segments: Array<string> = [];
  for (const segment of input.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      if (segments.length === 0)
        return { problem: `must stay inside the build context ("${input}" escapes it with '..')` };
      segments.pop();
      continue;
    }
    segments.push(segment);
  }
  // A last segment of "", "." or ".." names a directory ("docker/", "docker/.", "a/b/..").
  const last = input.slice(input.lastIndexOf("/") + 1);
  if (segments.length === 0 || last === "" || last === "." || last === "..")
    return { problem: `must name a file inside the build context (got "${input}")` };
  return { path: segments.join("/") };
};

/** Decodes to the normalized path; an empty value means the default `./Dockerfile`. */
export const DockerfilePath = Schema.transformOrFail(Schema.String, Schema.String, {
  strict: true,
  decode: (input, _options, ast) => {
    const result = normalizeDockerfilePath(input === "" ? DEFAULT_DOCKERFILE_PATH : input);
    return "path" in result
      ? ParseResult.succeed(result.path)
      : ParseResult.fail(new ParseResult.Type(ast, input, result.problem));
  },
  encode: (path) => ParseResult.succeed(path),
});
