/**
 * Wherever a command names a project, its slug or its id works. A slug is a DNS label (no `_`),
 * so a name that cannot be a slug is looked up as an id; one that can is looked up as a slug
 * first and, if no project has that slug, as an id (ids are opaque: the CLI does not rely on
 * their shape).
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { Project } from "@ferry/api";
import type { Api } from "./api.ts";
import { CliError, usageError } from "./errors.ts";
import { ExitCode } from "./exit-codes.ts";

const SLUG = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

const notFound = (error: unknown) => error instanceof ConnectError && error.code === Code.NotFound;

export const resolveProject = async (api: Api, slugOrId: string): Promise<Project> => {
  const name = slugOrId.trim();
  if (name === "") throw usageError("a project is required: pass its slug or id");
  if (SLUG.test(name)) {
    try {
      const { project } = await api.projects.getProject({ key: { case: "slug", value: name } });
      if (project !== undefined) return project;
    } catch (error) {
      if (!notFound(error)) throw error;
    }
  }
  try {
    const { project } = await api.projects.getProject({ key: { case: "projectId", value: name } });
    if (project !== undefined) return project;
  } catch (error) {
    // An id of the wrong shape is InvalidArgument; for the user both mean "no such project".
    const invalid = error instanceof ConnectError && error.code === Code.InvalidArgument;
    if (!notFound(error) && !invalid) throw error;
  }
  throw new CliError(
    `no project "${name}" in this workspace (looked up by slug and by id); \`ferry projects list\` shows them`,
    ExitCode.ApiRefused,
    "not_found",
  );
};
