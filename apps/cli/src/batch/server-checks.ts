/**
 * --dry-run's checks against the server, read-only: every project exists, every environment
 * exists in its project, every region is available, every deployment named by id exists (and,
 * for promote and rollback, is a production deployment of the right project). Each problem is
 * reported at the field that names the missing thing.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { type Deployment, EnvironmentKind, type Project } from "@ferry/api";
import type { Api } from "../api.ts";
import { CliError } from "../errors.ts";
import type { BatchFile, DeploymentRef, Entry, Position, Problem } from "./model.ts";

/** A lookup failure that says the thing does not exist (anything else is a real error). */
const isMissing = (error: unknown) =>
  (error instanceof CliError && error.code === "not_found") ||
  (error instanceof ConnectError &&
    (error.code === Code.NotFound || error.code === Code.InvalidArgument));

const memo = <A>(lookup: (key: string) => Promise<A>) => {
  const cache = new Map<string, Promise<A | undefined>>();
  return (key: string) => {
    let found = cache.get(key);
    if (found === undefined) {
      found = lookup(key).catch((error: unknown) => {
        if (isMissing(error)) return undefined;
        throw error;
      });
      cache.set(key, found);
    }
    return found;
  };
};

export const checkAgainstServer = async (
  api: Api,
  file: BatchFile,
  resolveProject: (slugOrId: string) => Promise<Project>,
): Promise<Array<Problem>> => {
  const problems: Array<Problem> = [];
  const project = memo(resolveProject);
  const deployment = memo(async (deploymentId) => {
    const { deployment } = await api.deployments.getDeployment({ deploymentId });
    return deployment;
  });
  const { regions } = await api.deployments.listRegions({});
  const available = regions.map((region) => region.name);

  const report = (entry: Entry, field: string, message: string) => {
    const at: Position = entry.fieldAt[field] ?? entry.at;
    problems.push({ ...at, message: `"${entry.name}" (${entry.operation.op}): ${message}` });
  };

  /** The project, or a problem at `field`. */
  const projectAt = async (entry: Entry, field: string, slugOrId: string) => {
    const found = await project(slugOrId);
    if (found === undefined)
      report(entry, field, `no project "${slugOrId}" in this workspace (by slug or id)`);
    return found;
  };

  /** A deployment named by id: it exists, and for traffic operations is production of `projectId`. */
  const deploymentAt = async (
    entry: Entry,
    field: string,
    ref: DeploymentRef | undefined,
    expected?: { readonly production: boolean; readonly projectId?: string },
  ): Promise<Deployment | undefined> => {
    if (ref?.kind !== "id") return undefined; // `@name` refs were checked by the parser
    const found = await deployment(ref.id);
    if (found === undefined) {
      report(entry, field, `no deployment "${ref.id}" in this workspace`);
      return undefined;
    }
    if (expected?.production === true && found.environmentKind !== EnvironmentKind.PRODUCTION)
      report(
        entry,
        field,
        `${ref.id} is a deployment of "${found.environmentSlug}"; only production deployments can be promoted or rolled back to`,
      );
    if (expected?.projectId !== undefined && found.projectId !== expected.projectId)
      report(entry, field, `${ref.id} belongs to another project`);
    return found;
  };

  for (const entry of file.entries) {
    const operation = entry.operation;
    switch (operation.op) {
      case "deploy": {
        const found = await projectAt(entry, "project", operation.project);
        if (
          found !== undefined &&
          !found.environments.some((environment) => environment.slug === operation.env)
        )
          report(
            entry,
            "env",
            `project ${found.slug} has no environment "${operation.env}" (it has ${found.environments.map((e) => e.slug).join(", ")})`,
          );
        for (const region of operation.regions)
          if (!available.includes(region))
            report(entry, "regions", `no region "${region}"; available: ${available.join(", ")}`);
        break;
      }
      case "promote":
        await deploymentAt(entry, "deployment", operation.deployment, { production: true });
        break;
      case "rollback": {
        const found = await projectAt(entry, "project", operation.project);
        const expected = {
          production: true,
          ...(found === undefined ? {} : { projectId: found.id }),
        };
        await deploymentAt(entry, "target", operation.target, expected);
        await deploymentAt(entry, "from", operation.from, expected);
        // A deploy earlier in the file may make the first live deployment.
        const deploysBefore = file.entries.some(
          (other) =>
            other.index < entry.index &&
            other.operation.op === "deploy" &&
            other.operation.project === operation.project,
        );
        if (
          found !== undefined &&
          operation.from === undefined &&
          found.liveDeploymentId === "" &&
          !deploysBefore
        )
          report(
            entry,
            "project",
            `project ${found.slug} has no live deployment to roll back from`,
          );
        break;
      }
      case "cancel":
        await deploymentAt(entry, "deployment", { kind: "id", id: operation.deployment });
        break;
    }
  }
  return problems;
};
