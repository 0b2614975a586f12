/**
 * Identifiers: a short prefix naming the kind, an underscore, then a ULID in
 * lowercase Crockford base32 (26 characters: 10 of time, 16 of randomness).
 *
 * Sortable by creation time (lexicographic order = time order, to the
 * millisecond), readable in logs (`dep_` is a deployment), and DNS-safe after
 * the prefix, so the part after `_` can appear in a hostname label.
 * See docs/decisions/0002-identifiers.md.
 */
import { Clock, Context, Effect, Layer, Random, Schema } from "effect";

/** Lowercase Crockford base32: no i, l, o, u. */
export const CROCKFORD_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";
const ULID_PATTERN = "[0-9abcdefghjkmnpqrstvwxyz]{26}";

export const ID_PREFIXES = {
  workspace: "ws",
  apiKey: "key",
  project: "prj",
  environment: "env",
  variable: "var",
  deployment: "dep",
  step: "stp",
  instance: "ins",
  route: "rt",
  event: "evt",
} as const;

export type IdKind = keyof typeof ID_PREFIXES;

const idSchema = <const Brand extends string>(kind: IdKind, brand: Brand) =>
  Schema.String.pipe(
    Schema.pattern(new RegExp(`^${ID_PREFIXES[kind]}_${ULID_PATTERN}$`), {
      message: () => `must be a ${kind} id (${ID_PREFIXES[kind]}_ followed by 26 characters)`,
    }),
    Schema.brand(brand),
  );

export const WorkspaceId = idSchema("workspace", "WorkspaceId");
export type WorkspaceId = typeof WorkspaceId.Type;
export const ApiKeyId = idSchema("apiKey", "ApiKeyId");
export type ApiKeyId = typeof ApiKeyId.Type;
export const ProjectId = idSchema("project", "ProjectId");
export type ProjectId = typeof ProjectId.Type;
export const EnvironmentId = idSchema("environment", "EnvironmentId");
export type EnvironmentId = typeof EnvironmentId.Type;
export const VariableId = idSchema("variable", "VariableId");
export type VariableId = typeof VariableId.Type;
export const DeploymentId = idSchema("deployment", "DeploymentId");
export type DeploymentId = typeof DeploymentId.Type;
export const StepId = idSchema("step", "StepId");
export type StepId = typeof StepId.Type;
export const InstanceId = idSchema("instance", "InstanceId");
export type InstanceId = typeof InstanceId.Type;
export const RouteId = idSchema("route", "RouteId");
export type RouteId = typeof RouteId.Type;
export const EventId = idSchema("event", "EventId");
export type EventId = typeof EventId.Type;

/** The id type of each kind: what `Ids.next(kind)` gives. */
export interface IdTypes {
  workspace: WorkspaceId;
  apiKey: ApiKeyId;
  project: ProjectId;
  environment: EnvironmentId;
  variable: VariableId;
  deployment: DeploymentId;
  step: StepId;
  instance: InstanceId;
  route: RouteId;
  event: EventId;
}

/** The ULID part of an id (after the prefix): DNS-safe, 26 characters. */
export type IdOf<K extends IdKind> = IdTypes[K];

export const idSuffix = (id: string): string => id.slice(id.indexOf("_") + 1);

/** Encodes a millisecond timestamp as the 10-character ULID time part. */
export const encodeUlidTime = (millis: number): string => {
  if (!Number.isInteger(millis) || millis < 0 || millis > 2 ** 48 - 1) {
    throw new RangeError(`ULID time out of range: ${millis}`);
  }
  let rest = millis;
  let out = "";
  for (let i = 0; i < 10; i++) {
    out = CROCKFORD_ALPHABET.charAt(rest % 32) + out;
    rest = Math.floor(rest / 32);
  }
  return out;
};

/** The creation time (Unix ms) encoded in an id. */
export const idTimestamp = (id: string): number => {
  let millis = 0;
  for (const char of idSuffix(id).slice(0, 10)) {
    millis = millis * 32 + CROCKFORD_ALPHABET.indexOf(char);
  }
  return millis;
};

/**
 * A ULID without a kind prefix, for keys that are not ids of the model (upload keys, generated
 * idempotency keys). Clock and Random, like Ids.layer, so tests get the same value from the
 * same seed.
 */
export const newUlid: Effect.Effect<string> = Effect.gen(function* () {
  let random = "";
  for (let i = 0; i < 16; i++)
    random += CROCKFORD_ALPHABET.charAt(yield* Random.nextIntBetween(0, 32));
  return `${encodeUlidTime(yield* Clock.currentTimeMillis)}${random}`;
});

/**
 * Makes ids. The default layer draws time from Effect's `Clock` and
 * randomness from Effect's `Random`, so tests (TestClock, seeded Random) and
 * durable workflows (which supply deterministic time and randomness from the
 * Restate context) get reproducible ids without another implementation.
 */
export class Ids extends Context.Tag("@ferry/domain/Ids")<
  Ids,
  { readonly next: <K extends IdKind>(kind: K) => Effect.Effect<IdTypes[K]> }
>() {
  static readonly layer = Layer.succeed(this, {
    next: <K extends IdKind>(kind: K) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis;
        let random = "";
        for (let i = 0; i < 16; i++) {
          random += CROCKFORD_ALPHABET.charAt(yield* Random.nextIntBetween(0, 32));
        }
        return `${ID_PREFIXES[kind]}_${encodeUlidTime(now)}${random}` as IdTypes[K];
      }),
  });
}
