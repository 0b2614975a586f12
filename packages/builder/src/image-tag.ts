/**
 * The tag a build produces: a Docker image reference with an explicit tag, checked with the
 * grammar of github.com/distribution/reference so the engine never rejects it mid-build.
 */

const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = new RegExp(`^${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]+)?$`);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const MAX_NAME_LENGTH = 255;

/** Why `ref` cannot tag a build, or undefined when it can (`[registry/]path:tag`). */
export const imageTagProblem = (ref: string): string | undefined => {
  const slash = ref.lastIndexOf("/");
  const colon = ref.lastIndexOf(":");
  if (ref.includes("@")) return "a build's image reference takes a tag, not a digest";
  if (colon <= slash) return "it has no tag (expected name:tag)";
  const name = ref.slice(0, colon);
  const tag = ref.slice(colon + 1);
  if (!TAG.test(tag))
    return `its tag "${tag}" must be 1 to 128 letters, digits, "_", "." or "-", not starting with "." or "-"`;
  if (name.length === 0 || name.length > MAX_NAME_LENGTH)
    return `its name must be 1 to ${MAX_NAME_LENGTH} characters`;
  const parts = name.split("/");
  const first = parts[0] ?? "";
  const hasDomain =
    parts.length > 1 && (first.includes(".") || first.includes(":") || first === "localhost");
  if (hasDomain && !DOMAIN.test(first)) return `its registry "${first}" is not a host[:port]`;
  for (const part of hasDomain ? parts.slice(1) : parts) {
    if (part !== part.toLowerCase()) return `its name "${name}" must be lowercase`;
    if (!PATH_COMPONENT.test(part))
      return `its name component "${part}" must be lowercase letters and digits separated by ".", "_", "__" or "-"`;
  }
  return undefined;
};

/**
 * `localhost/ferry/<project id>:<deployment id>`: one repository per project, one tag per
 * deployment. The `localhost/` registry keeps the name local on every engine: Podman's Docker
 * API completes a bare `ferry/...` to `docker.io/ferry/...`, a name a pull would look for on
 * Docker Hub. Ids are lowercased (repository names must be; tags need not, but one case reads
 * better).
 */
export const ferryImageTag = (projectId: string, deploymentId: string): string =>
  `localhost/ferry/${projectId.toLowerCase()}:${deploymentId.toLowerCase()}`;
