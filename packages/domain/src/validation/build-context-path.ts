/**
 * Build context keys are scoped to their project: a key is accepted only
 * under `projects/{project_id}/contexts/`, so one project can never build
 * from another's upload. CreateUploadUrl hands out keys of this shape.
 */
export const BUILD_CONTEXT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export const buildContextPrefix = (projectId: string): string => `projects/${projectId}/contexts/`;

export const buildContextKey = (projectId: string, name: string): string =>
  `${buildContextPrefix(projectId)}${name}`;

export const buildContextPathProblem = (projectId: string, path: string): string | undefined => {
  if (path === "") return "must not be empty (get a path from CreateUploadUrl)";
  const prefix = buildContextPrefix(projectId);
  if (!path.startsWith(prefix))
    return `must be a key under "${prefix}" (it belongs to another project or was not made by CreateUploadUrl)`;
  const name = path.slice(prefix.length);
  if (!BUILD_CONTEXT_NAME.test(name) || name.includes(".."))
    return `must end in a single file name of letters, digits, '.', '_' or '-' after "${prefix}"`;
  return undefined;
};
