/**
 * Checks of a batch file against this machine, done before every run and every dry run: each
 * directory to deploy exists and holds its Dockerfile. (What the server knows, such as whether
 * a project exists, is checked by --dry-run; in a run it fails only the entry concerned.)
 */
import { statSync } from "node:fs";
import path from "node:path";
import type { BatchFile, Problem } from "./model.ts";

const kindOf = (file: string): "file" | "directory" | "other" | "missing" => {
  try {
    const stats = statSync(file);
    return stats.isFile() ? "file" : stats.isDirectory() ? "directory" : "other";
  } catch {
    return "missing";
  }
};

export const checkDirectories = (file: BatchFile): Array<Problem> => {
  const problems: Array<Problem> = [];
  for (const entry of file.entries) {
    const operation = entry.operation;
    if (operation.op !== "deploy" || operation.source.kind !== "dir") continue;
    const { dir, absoluteDir, dockerfile } = operation.source;
    const dirAt = entry.fieldAt.dir ?? entry.at;
    const dirKind = kindOf(absoluteDir);
    if (dirKind !== "directory") {
      problems.push({
        ...dirAt,
        message: `"${entry.name}" (deploy): ${dirKind === "missing" ? `the directory ${dir} does not exist (${absoluteDir})` : `${dir} is not a directory`}`,
      });
      continue;
    }
    if (kindOf(path.join(absoluteDir, dockerfile)) !== "file")
      problems.push({
        ...(entry.fieldAt.dockerfile ?? dirAt),
        message: `"${entry.name}" (deploy): ${dir} has no ${dockerfile}; add it, set "dockerfile" to its path inside the directory, or deploy a prebuilt "image"`,
      });
  }
  return problems;
};
