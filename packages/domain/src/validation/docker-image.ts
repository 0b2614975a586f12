/**
 * OCI image references, by the grammar of distribution/reference (what
 * Docker and Podman accept): `[host[:port]/]path[:tag][@digest]`.
 */
import { Schema } from "effect";

const alphanumeric = "[a-z0-9]+";
const separator = "(?:[._]|__|[-]+)";
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const domainComponent = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const domainName = `${domainComponent}(?:\\.${domainComponent})*`;
const ipv6 = "\\[[a-fA-F0-9:]+\\]";
const domain = `(?:${domainName}|${ipv6})(?::[0-9]+)?`;
const remoteName = `${pathComponent}(?:/${pathComponent})*`;
const name = `(?:${domain}/)?${remoteName}`;
const tag = "[\\w][\\w.-]{0,127}";
const digest = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";

const REFERENCE = new RegExp(`^(${name})(?::(${tag}))?(?:@(${digest}))?$`);
export const IMAGE_NAME_MAX_LENGTH = 255;

export const imageReferenceProblem = (reference: string): string | undefined => {
  if (reference.length === 0) return "must not be empty";
  const match = REFERENCE.exec(reference);
  if (!match) {
    return `"${reference}" is not a valid image reference (expected [registry/]name[:tag][@digest], name in lowercase)`;
  }
  const imageName = match[1] ?? "";
  if (imageName.length > IMAGE_NAME_MAX_LENGTH)
    return `image name must be at most ${IMAGE_NAME_MAX_LENGTH} characters (got ${imageName.length})`;
  return undefined;
};

export const DockerImageReference = Schema.String.pipe(
  Schema.filter((reference) => imageReferenceProblem(reference) ?? true),
);
