/**
 * Before a run: which project each entry acts on, so the scheduler can keep one project's
 * operations in file order. deploy and rollback name their project; promote and cancel name a
 * deployment, whose project is looked up (or, for `@name`, is the project of that deploy
 * entry). An entry whose project cannot be found gets a lane of its own and fails when it
 * runs, with the lookup's error; the other entries go on.
 */
import type { Project } from "@ferry/api";
import type { Api } from "../api.ts";
import { CliError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { resolveProject } from "../projects.ts";
import type { Entry } from "./model.ts";
import { schedule } from "./schedule.ts";

export type EntryPlan =
  | { readonly kind: "project"; readonly projectId: string; readonly projectSlug: string }
  | { readonly kind: "unresolved"; readonly error: unknown };

export interface Plan {
  readonly byName: ReadonlyMap<string, EntryPlan>;
  /** The scheduler's lane: the project id, or the entry itself when unresolved. */
  readonly laneOf: (entry: Entry) => string;
}

/** resolveProject, once per name the file uses. */
export const projectResolver = (api: Api) => {
  const cache = new Map<string, Promise<Project>>();
  return (slugOrId: string): Promise<Project> => {
    let found = cache.get(slugOrId);
    if (found === undefined) {
      found = resolveProject(api, slugOrId);
      cache.set(slugOrId, found);
      // A failed lookup is not cached: a later caller (the entry's own run) asks again.
      found.catch(() => cache.delete(slugOrId));
    }
    return found;
  };
};

export const planEntries = async (
  api: Api,
  entries: ReadonlyArray<Entry>,
  project: (slugOrId: string) => Promise<Project>,
  concurrency: number,
): Promise<Plan> => {
  const byName = new Map<string, EntryPlan>();
  const ofProject = (found: Project): EntryPlan => ({
    kind: "project",
    projectId: found.id,
    projectSlug: found.slug,
  });
  const ofDeployment = async (deploymentId: string): Promise<EntryPlan> => {
    const { deployment } = await api.deployments.getDeployment({ deploymentId });
    const found = await project(deployment?.projectId ?? "");
    return ofProject(found);
  };
  // Lookups run in parallel; `@name` entries take their target's plan afterwards (the target is
  // always earlier in the file, so it is planned by then).
  const direct = entries.filter(
    (entry) => !(entry.operation.op === "promote" && entry.operation.deployment.kind === "entry"),
  );
  const plans = await schedule(direct, {
    concurrency,
    laneOf: (entry) => entry.name,
    run: async (entry): Promise<EntryPlan> => {
      const operation = entry.operation;
      switch (operation.op) {
        case "deploy":
        case "rollback":
          return ofProject(await project(operation.project));
        case "cancel":
          return ofDeployment(operation.deployment);
        case "promote":
          return operation.deployment.kind === "id"
            ? ofDeployment(operation.deployment.id)
            : { kind: "unresolved", error: new Error("unreachable") };
      }
    },
    onError: (_, error): EntryPlan => ({ kind: "unresolved", error }),
  });
  direct.forEach((entry, index) => {
    byName.set(entry.name, plans[index] as EntryPlan);
  });
  for (const entry of entries) {
    const operation = entry.operation;
    if (operation.op === "promote" && operation.deployment.kind === "entry") {
      const target = byName.get(operation.deployment.name);
      if (target !== undefined) byName.set(entry.name, target);
    }
    // A rollback's `@name` must be a deploy of the same project: only then does it run in the
    // same lane, after that deploy.
    if (operation.op === "rollback") {
      const own = byName.get(entry.name);
      for (const ref of [operation.target, operation.from]) {
        if (ref?.kind !== "entry" || own?.kind !== "project") continue;
        const target = byName.get(ref.name);
        if (target?.kind === "project" && target.projectId !== own.projectId)
          byName.set(entry.name, {
            kind: "unresolved",
            error: new CliError(
              `"@${ref.name}" deploys project ${target.projectSlug}, not ${own.projectSlug}; a rollback stays within one project`,
              ExitCode.Usage,
              "invalid_batch_file",
            ),
          });
      }
    }
  }
  return {
    byName,
    laneOf: (entry) => {
      const plan = byName.get(entry.name);
      return plan?.kind === "project" ? `project:${plan.projectId}` : `entry:${entry.name}`;
    },
  };
};
