/**
 * A batch file after validation: what each entry asks for, where it is written (for problems
 * reported with line and column), and the idempotency key that makes a re-run skip it.
 * The file format is documented in apps/cli/README.md ("Batch").
 */

/** The only version of the batch file format so far; a file states it (`version: 1`). */
export const BATCH_FILE_VERSION = 1;

/** A place in the batch file, both 1-based (as editors show them). */
export interface Position {
  readonly line: number;
  readonly col: number;
}

/** A problem with the batch file (or, under --dry-run, with what it names), at its place. */
export interface Problem extends Position {
  readonly message: string;
}

/** A deployment named by id, or by the name of an earlier deploy entry of the same file (`@web`). */
export type DeploymentRef =
  | { readonly kind: "id"; readonly id: string }
  | { readonly kind: "entry"; readonly name: string };

export type DeploySource =
  | { readonly kind: "image"; readonly image: string }
  | {
      readonly kind: "dir";
      /** As written (relative to the batch file's directory, or absolute), `/`-normalized. */
      readonly dir: string;
      /** The directory on this machine. */
      readonly absoluteDir: string;
      /** Relative to the directory; `Dockerfile` unless the entry says otherwise. */
      readonly dockerfile: string;
    };

export type Operation =
  | {
      readonly op: "deploy";
      /** A project slug or id. */
      readonly project: string;
      readonly env: string;
      readonly source: DeploySource;
      /** Sorted, without duplicates; empty means every region. */
      readonly regions: ReadonlyArray<string>;
    }
  | { readonly op: "promote"; readonly deployment: DeploymentRef }
  | {
      readonly op: "rollback";
      readonly project: string;
      /** Unset: the previous READY production deployment. */
      readonly target?: DeploymentRef;
      /** Unset: the project's live deployment. */
      readonly from?: DeploymentRef;
    }
  | { readonly op: "cancel"; readonly deployment: string };

export type OperationName = Operation["op"];

export const OPERATION_NAMES: ReadonlyArray<OperationName> = [
  "deploy",
  "promote",
  "rollback",
  "cancel",
];

export interface Entry {
  /** 0-based position in the file's `operations` list. */
  readonly index: number;
  readonly name: string;
  /** Where the entry starts. */
  readonly at: Position;
  /** Where each of its fields' values is written, by field name. */
  readonly fieldAt: Readonly<Record<string, Position>>;
  readonly operation: Operation;
  /** The idempotency key sent with the entry's request (see keys.ts). */
  readonly idempotencyKey: string;
}

export interface BatchFile {
  /** The file as given on the command line. */
  readonly path: string;
  /** The `run` label: part of every key; changing it runs every entry again. */
  readonly run: string;
  readonly entries: ReadonlyArray<Entry>;
}

/** `file:line:col: message`, the form editors and terminals link to. */
export const formatProblem = (file: string, problem: Problem): string =>
  `${file}:${problem.line}:${problem.col}: ${problem.message}`;

export const byPosition = (a: Position, b: Position): number => a.line - b.line || a.col - b.col;
