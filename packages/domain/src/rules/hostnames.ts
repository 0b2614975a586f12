/**
 * Hostnames of a deployment, each a single DNS label under the platform's
 * apex domain (one label, so one wildcard certificate covers them all):
 *
 * | kind        | label                                  | moves                              |
 * | ----------- | -------------------------------------- | ---------------------------------- |
 * | DEPLOYMENT  | {project}-{deployment ulid}            | never                              |
 * | BRANCH      | {project}--git--{branch}--{workspace}  | to the latest READY of the branch  |
 * | ENVIRONMENT | {project}--{environment}--{workspace}  | to the environment's current one   |
 * | LIVE        | {project}--{workspace}                 | on promote / rollback (production) |
 *
 * Why `--`: slugs may not contain `--` and sanitized branch names never do,
 * so the `--`-separated parts can be read back unambiguously and the kinds
 * never collide (a LIVE label has 2 parts, ENVIRONMENT 3, BRANCH 4 with
 * `git` second, DEPLOYMENT 1 ending in a 26-character unique id).
 * Single-dash joins would let project `a-preview` collide with project `a`'s
 * preview environment.
 *
 * Every label is a valid DNS label of at most 63 characters: a longer one is
 * cut and given a short hash of the full label, so two long names do not
 * collapse into one. The deployment label is cut in its project part only;
 * the id alone keeps it unique.
 */
import { idSuffix } from "../ids.ts";
import { DNS_LABEL_MAX_LENGTH } from "../validation/dns-label.ts";

const HASH_LENGTH = 6;

/** Lowercases and maps runs of anything outside [a-z0-9] to one '-', trimming dashes at the ends. */
export const sanitizeLabelPart = (value: string): string =>
  value
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^-+|-+$/g, "");

/** FNV-1a (32 bit) in base 36: a stable, dependency-free digest for label suffixes. */
export const shortHash = (value: string): string => {
  let hash = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) {
    hash ^= value.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(36).padStart(HASH_LENGTH, "0").slice(-HASH_LENGTH);
};

const trimDashes = (value: string): string => value.replace(/-+$/g, "");

/** Joins parts with `--` into one label, cutting and hashing when it exceeds 63 characters. */
export const composeLabel = (parts: ReadonlyArray<string>): string => {
  const full = parts
    .map(sanitizeLabelPart)
    .filter((part) => part !== "")
    .join("--");
  if (full.length <= DNS_LABEL_MAX_LENGTH) return full;
  const head = trimDashes(full.slice(0, DNS_LABEL_MAX_LENGTH - HASH_LENGTH - 1));
  return `${head}-${shortHash(full)}`;
};

export interface HostnameContext {
  /** e.g. `ferry.localhost` or `apps.example.com`. */
  readonly apexDomain: string;
  readonly workspaceSlug: string;
  readonly projectSlug: string;
}

const under = (label: string, apexDomain: string): string => `${label}.${apexDomain}`;

export const deploymentHostname = (context: HostnameContext, deploymentId: string): string => {
  const unique = idSuffix(deploymentId);
  const room = DNS_LABEL_MAX_LENGTH - unique.length - 1;
  const project = trimDashes(sanitizeLabelPart(context.projectSlug).slice(0, room));
  return under(project === "" ? unique : `${project}-${unique}`, context.apexDomain);
};

/**
 * A branch with nothing left after sanitizing (e.g. "修正") is named by its
 * hash: dropping the part would give a 3-part label that collides with the
 * ENVIRONMENT label of an environment named "git", and with every other such branch.
 */
const branchLabelPart = (branch: string): string => sanitizeLabelPart(branch) || shortHash(branch);

export const branchHostname = (context: HostnameContext, branch: string): string =>
  under(
    composeLabel([context.projectSlug, "git", branchLabelPart(branch), context.workspaceSlug]),
    context.apexDomain,
  );

export const environmentHostname = (context: HostnameContext, environmentSlug: string): string =>
  under(
    composeLabel([context.projectSlug, environmentSlug, context.workspaceSlug]),
    context.apexDomain,
  );

export const liveHostname = (context: HostnameContext): string =>
  under(composeLabel([context.projectSlug, context.workspaceSlug]), context.apexDomain);
