/**
 * Reads a batch file (YAML, or JSON, which is YAML) into entries, or into every problem it
 * has, each with its line and column: syntax errors first (then nothing else is checked, since
 * the structure is unreliable), otherwise every field of every entry is checked and all
 * problems are returned together.
 */
import path from "node:path";
import {
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  type Pair,
  parseDocument,
  type YAMLMap,
} from "yaml";
import { entryIdempotencyKey } from "./keys.ts";
import {
  BATCH_FILE_VERSION,
  type BatchFile,
  byPosition,
  type DeploymentRef,
  type DeploySource,
  type Entry,
  OPERATION_NAMES,
  type Operation,
  type OperationName,
  type Position,
  type Problem,
} from "./model.ts";

/** The fields each operation takes besides `name` and `op`, in the order help lists them. */
export const OPERATION_FIELDS: Readonly<Record<OperationName, ReadonlyArray<string>>> = {
  deploy: ["project", "env", "image", "dir", "dockerfile", "regions"],
  promote: ["deployment"],
  rollback: ["project", "target", "from"],
  cancel: ["deployment"],
};

const TOP_LEVEL_FIELDS = ["version", "run", "operations"];

/** Entry names: they appear in reports and in `@name` references. */
const ENTRY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export interface ParseResult {
  /** Present only when there are no problems. */
  readonly file?: BatchFile;
  /** Sorted by position. */
  readonly problems: ReadonlyArray<Problem>;
}

export interface ParseOptions {
  /** The file as given on the command line (for the result). */
  readonly path: string;
  /** Relative `dir` values are resolved against it: the batch file's directory. */
  readonly baseDir: string;
}

interface Field {
  readonly key: string;
  readonly keyAt: Position;
  readonly value: Node | null;
  readonly valueAt: Position;
}

const describe = (node: Node | null): string => {
  if (node === null) return "nothing";
  if (isMap(node)) return "a mapping";
  if (isSeq(node)) return "a list";
  if (isScalar(node)) {
    const value = node.value;
    if (value === null) return "nothing";
    if (typeof value === "string") return `"${value}"`;
    return `${typeof value === "object" ? "a value" : typeof value} ${String(value)}`;
  }
  return "an alias";
};

export const parseBatchFile = (text: string, options: ParseOptions): ParseResult => {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const problems: Array<Problem> = [];
  const at = (offset: number | undefined): Position => {
    const { line, col } = lineCounter.linePos(offset ?? 0);
    return { line: Math.max(line, 1), col: Math.max(col, 1) };
  };
  const nodeAt = (node: Node | null | undefined, fallback: Position): Position =>
    node?.range ? at(node.range[0]) : fallback;
  const report = (position: Position, message: string) => problems.push({ ...position, message });

  const syntax = doc.errors.filter((error) => error.code !== "DUPLICATE_KEY");
  for (const error of doc.errors) {
    const message = error.message.split("\n")[0] ?? error.message;
    report(
      at(error.pos[0]),
      error.code === "DUPLICATE_KEY"
        ? "this key appears twice in the same mapping; keep one"
        : `not valid YAML or JSON: ${message}`,
    );
  }
  if (syntax.length > 0) return { problems: problems.sort(byPosition) };

  const start: Position = { line: 1, col: 1 };
  const root = doc.contents as Node | null;
  if (root === null || (isScalar(root) && root.value === null)) {
    report(
      start,
      `the file is empty; a batch file starts with "version: ${BATCH_FILE_VERSION}" and lists its operations under "operations:"`,
    );
    return { problems };
  }
  if (!isMap(root)) {
    report(
      nodeAt(root, start),
      `a batch file is a mapping with "version" and "operations", not ${describe(root)}`,
    );
    return { problems };
  }

  /** The fields of a mapping; unknown names are reported. */
  const fieldsOf = (map: YAMLMap, allowed: ReadonlyArray<string>, what: string) => {
    const fields = new Map<string, Field>();
    for (const pair of map.items as Array<Pair<Node | null, Node | null>>) {
      const keyAt = nodeAt(pair.key, nodeAt(map, start));
      const key = isScalar(pair.key) ? pair.key.value : undefined;
      if (typeof key !== "string") {
        report(keyAt, `${what}: field names are plain words, not ${describe(pair.key)}`);
        continue;
      }
      if (!allowed.includes(key)) {
        report(keyAt, `${what}: unknown field "${key}"; expected one of: ${allowed.join(", ")}`);
        continue;
      }
      if (fields.has(key)) continue; // DUPLICATE_KEY, already reported
      fields.set(key, { key, keyAt, value: pair.value, valueAt: nodeAt(pair.value, keyAt) });
    }
    return fields;
  };

  /** A string field: a non-empty string without leading or trailing spaces. */
  const stringOf = (field: Field | undefined, what: string): string | undefined => {
    if (field === undefined) return undefined;
    const value = isScalar(field.value) ? field.value.value : undefined;
    if (typeof value !== "string") {
      const hint =
        typeof value === "number" || typeof value === "boolean"
          ? `; write it in quotes: "${String(value)}"`
          : "";
      report(
        field.valueAt,
        `${what}: "${field.key}" must be a string, not ${describe(field.value)}${hint}`,
      );
      return undefined;
    }
    if (value.trim() === "" || value.trim() !== value) {
      report(
        field.valueAt,
        `${what}: "${field.key}" must not be empty or start or end with spaces`,
      );
      return undefined;
    }
    return value;
  };

  const top = fieldsOf(root, TOP_LEVEL_FIELDS, "batch file");

  const versionField = top.get("version");
  if (versionField === undefined)
    report(
      nodeAt(root, start),
      `"version" is missing; write "version: ${BATCH_FILE_VERSION}" (the batch file format version)`,
    );
  else {
    const value = isScalar(versionField.value) ? versionField.value.value : undefined;
    if (value !== BATCH_FILE_VERSION)
      report(
        versionField.valueAt,
        `"version" must be ${BATCH_FILE_VERSION} (the only batch file format this ferry knows), not ${describe(versionField.value)}`,
      );
  }
  const run = stringOf(top.get("run"), "batch file") ?? "";

  const operationsField = top.get("operations");
  const entries: Array<Entry> = [];
  /** Every entry with a name, valid or not: for duplicate names and references. */
  const declared: Array<Declared> = [];
  if (operationsField === undefined)
    report(nodeAt(root, start), `"operations" is missing: the list of operations to run`);
  else if (!isSeq(operationsField.value))
    report(
      operationsField.valueAt,
      `"operations" must be a list of operations, not ${describe(operationsField.value)}`,
    );
  else if (operationsField.value.items.length === 0)
    report(operationsField.valueAt, `"operations" is empty: list at least one operation`);
  else
    (operationsField.value.items as Array<Node | null>).forEach((item, index) => {
      const entry = readEntry(item, index, operationsField.valueAt);
      if (entry !== undefined) entries.push(entry);
    });

  function readEntry(item: Node | null, index: number, listAt: Position): Entry | undefined {
    const entryAt = nodeAt(item, listAt);
    if (!isMap(item)) {
      report(
        entryAt,
        `operations[${index}]: an operation is a mapping with "name", "op" and its fields, not ${describe(item)}`,
      );
      return undefined;
    }
    const raw = (field: string) => {
      const pair = item.items.find((p) => isScalar(p.key) && p.key.value === field);
      return isScalar(pair?.value) ? pair.value.value : undefined;
    };
    const opValue = raw("op");
    const op = OPERATION_NAMES.find((name) => name === opValue);
    const rawName = raw("name");
    const rawEnv = raw("env");
    if (typeof rawName === "string")
      declared.push({
        name: rawName,
        index,
        at: entryAt,
        ...(op === undefined ? {} : { op }),
        env: typeof rawEnv === "string" ? rawEnv : "production",
      });
    const label =
      typeof rawName === "string" && rawName !== "" ? `"${rawName}"` : `operations[${index}]`;
    const allowed = ["name", "op", ...(op === undefined ? [] : OPERATION_FIELDS[op])];
    // Without a known op, other fields cannot be judged; only name and op are checked.
    const fields =
      op === undefined
        ? fieldsOf(
            item,
            [
              ...allowed,
              ...item.items.flatMap((pair) =>
                isScalar(pair.key) && typeof pair.key.value === "string" ? [pair.key.value] : [],
              ),
            ],
            label,
          )
        : fieldsOf(item, allowed, `${label} (${op})`);

    const nameField = fields.get("name");
    const name = stringOf(nameField, label);
    if (nameField === undefined)
      report(entryAt, `${label}: "name" is missing: every operation has a unique name`);
    else if (name !== undefined && !ENTRY_NAME.test(name)) {
      report(
        nameField.valueAt,
        `${label}: name "${name}" must be 1 to 63 letters, digits, ".", "_" or "-", starting with a letter or digit`,
      );
    }
    const what = label;

    const opFieldRead = fields.get("op");
    if (opFieldRead === undefined) {
      report(entryAt, `${what}: "op" is missing; expected one of: ${OPERATION_NAMES.join(", ")}`);
      return undefined;
    }
    if (op === undefined) {
      report(
        opFieldRead.valueAt,
        `${what}: unknown operation ${describe(opFieldRead.value)}; expected one of: ${OPERATION_NAMES.join(", ")}`,
      );
      return undefined;
    }
    const context = `${what} (${op})`;
    const required = (field: string): Field | undefined => {
      const value = fields.get(field);
      if (value === undefined) report(entryAt, `${context}: "${field}" is missing`);
      return value;
    };
    const deploymentRef = (field: Field | undefined): DeploymentRef | undefined => {
      const value = stringOf(field, context);
      if (value === undefined) return undefined;
      if (!value.startsWith("@")) return { kind: "id", id: value };
      const entryName = value.slice(1);
      return { kind: "entry", name: entryName };
    };

    let operation: Operation | undefined;
    switch (op) {
      case "deploy": {
        const project = stringOf(required("project"), context);
        const env = stringOf(fields.get("env"), context) ?? "production";
        const imageField = fields.get("image");
        const dirField = fields.get("dir");
        const dockerfileField = fields.get("dockerfile");
        const regions = regionsOf(fields.get("regions"), context);
        let source: DeploySource | undefined;
        if (imageField !== undefined && dirField !== undefined)
          report(
            dirField.keyAt,
            `${context}: give either "image" (a prebuilt image) or "dir" (a directory to build), not both`,
          );
        else if (imageField === undefined && dirField === undefined)
          report(
            entryAt,
            `${context}: "image" (a prebuilt image) or "dir" (a directory to build) is missing`,
          );
        else if (imageField !== undefined) {
          const image = stringOf(imageField, context);
          if (dockerfileField !== undefined)
            report(
              dockerfileField.keyAt,
              `${context}: "dockerfile" goes with "dir", not with a prebuilt "image"`,
            );
          if (image !== undefined && /\s/.test(image))
            report(imageField.valueAt, `${context}: image "${image}" must not contain spaces`);
          else if (image !== undefined) source = { kind: "image", image };
        } else {
          const dir = stringOf(dirField, context);
          const dockerfile = stringOf(dockerfileField, context) ?? "Dockerfile";
          const normalizedDockerfile = path.posix.normalize(dockerfile.replaceAll("\\", "/"));
          if (
            dockerfileField !== undefined &&
            (path.posix.isAbsolute(normalizedDockerfile) || normalizedDockerfile.startsWith(".."))
          )
            report(
              dockerfileField.valueAt,
              `${context}: "dockerfile" is a path inside "dir" (for example docker/Dockerfile), not "${dockerfile}"`,
            );
          else if (dir !== undefined) {
            const normalizedDir = path.posix.normalize(dir.replaceAll("\\", "/"));
            source = {
              kind: "dir",
              dir: normalizedDir,
              absoluteDir: path.resolve(options.baseDir, dir),
              dockerfile: normalizedDockerfile,
            };
          }
        }
        if (project !== undefined && source !== undefined && regions !== undefined)
          operation = { op, project, env, source, regions };
        break;
      }
      case "promote": {
        const deployment = deploymentRef(required("deployment"));
        if (deployment !== undefined) operation = { op, deployment };
        break;
      }
      case "rollback": {
        const project = stringOf(required("project"), context);
        const target = deploymentRef(fields.get("target"));
        const from = deploymentRef(fields.get("from"));
        const valid =
          (fields.get("target") === undefined || target !== undefined) &&
          (fields.get("from") === undefined || from !== undefined);
        if (project !== undefined && valid)
          operation = {
            op,
            project,
            ...(target === undefined ? {} : { target }),
            ...(from === undefined ? {} : { from }),
          };
        break;
      }
      case "cancel": {
        const field = required("deployment");
        const deployment = stringOf(field, context);
        if (field !== undefined && deployment?.startsWith("@"))
          report(
            field.valueAt,
            `${context}: "deployment" must be a deployment id; a deploy entry of this file is already finished when a later entry runs, so it cannot be cancelled by name`,
          );
        else if (deployment !== undefined) operation = { op, deployment };
        break;
      }
    }
    if (name === undefined || operation === undefined) return undefined;
    const fieldAt: Record<string, Position> = {};
    for (const [key, field] of fields) fieldAt[key] = field.valueAt;
    return {
      index,
      name,
      at: entryAt,
      fieldAt,
      operation,
      idempotencyKey: entryIdempotencyKey(
        { file: path.basename(options.path), run },
        name,
        operation,
      ),
    };
  }

  function regionsOf(field: Field | undefined, context: string): ReadonlyArray<string> | undefined {
    if (field === undefined) return [];
    if (!isSeq(field.value)) {
      report(
        field.valueAt,
        `${context}: "regions" must be a list of region names (for example [local-1]), not ${describe(field.value)}`,
      );
      return undefined;
    }
    const regions = new Set<string>();
    let valid = true;
    for (const item of field.value.items as Array<Node | null>) {
      const value = isScalar(item) ? item.value : undefined;
      if (typeof value !== "string" || value.trim() === "") {
        report(
          nodeAt(item, field.valueAt),
          `${context}: a region is a name such as local-1, not ${describe(item)}`,
        );
        valid = false;
      } else regions.add(value);
    }
    return valid ? [...regions].sort() : undefined;
  }

  checkNamesAndReferences(declared, entries, report);
  if (problems.length > 0) return { problems: problems.sort(byPosition) };
  return { file: { path: options.path, run, entries }, problems: [] };
};

interface Declared {
  readonly name: string;
  readonly index: number;
  readonly at: Position;
  readonly op?: OperationName;
  readonly env: string;
}

/** Names are unique; `@name` references name an earlier production deploy entry. */
const checkNamesAndReferences = (
  declared: ReadonlyArray<Declared>,
  entries: ReadonlyArray<Entry>,
  report: (position: Position, message: string) => void,
) => {
  const byName = new Map<string, Declared>();
  for (const entry of declared) {
    const first = byName.get(entry.name);
    if (first !== undefined)
      report(
        entry.at,
        `duplicate name "${entry.name}": the operation at line ${first.at.line} already has it; names must be unique`,
      );
    else byName.set(entry.name, entry);
  }
  for (const entry of entries) {
    const operation = entry.operation;
    const refs: Array<[string, DeploymentRef | undefined]> =
      operation.op === "promote"
        ? [["deployment", operation.deployment]]
        : operation.op === "rollback"
          ? [
              ["target", operation.target],
              ["from", operation.from],
            ]
          : [];
    for (const [field, ref] of refs) {
      if (ref?.kind !== "entry") continue;
      const position = entry.fieldAt[field] ?? entry.at;
      const context = `"${entry.name}" (${operation.op})`;
      const target = byName.get(ref.name);
      if (target === undefined || target.index >= entry.index) {
        report(
          position,
          `${context}: "@${ref.name}" names no earlier operation of this file; write a deployment id or "@" and the name of an earlier deploy`,
        );
        continue;
      }
      if (target.op === undefined) continue; // its own problem is reported
      if (target.op !== "deploy") {
        report(
          position,
          `${context}: "@${ref.name}" is a ${target.op}, not a deploy; it makes no deployment`,
        );
        continue;
      }
      if (target.env !== "production")
        report(
          position,
          `${context}: "@${ref.name}" deploys to "${target.env}"; only production deployments can be promoted or rolled back to`,
        );
    }
  }
};
