/**
 * Where a deployment would go, checked before anything is uploaded: the project has the
 * environment and every region asked for exists. CreateDeployment checks the same, but only
 * after the build context is uploaded, and a refused request would leave that upload behind.
 */
import type { Project } from "@ferry/api";
import type { Api } from "../api.ts";
import { CliError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";

export const checkDeployTarget = async (
  api: Api,
  project: Project,
  environment: string,
  regions: ReadonlyArray<string>,
): Promise<void> => {
  if (!project.environments.some((candidate) => candidate.slug === environment))
    throw new CliError(
      `project ${project.slug} has no environment "${environment}" (it has ${project.environments.map((candidate) => candidate.slug).join(", ")})`,
      ExitCode.ApiRefused,
      "not_found",
    );
  if (regions.length === 0) return;
  const available = (await api.deployments.listRegions({})).regions.map((region) => region.name);
  const unknown = regions.filter((region) => !available.includes(region));
  if (unknown.length > 0)
    throw new CliError(
      `no region ${unknown.map((region) => `"${region}"`).join(", ")}; available: ${available.join(", ")}`,
      ExitCode.ApiRefused,
      "invalid_argument",
    );
};
