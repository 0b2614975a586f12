/** Runs a Schema over untrusted input and turns every issue into a field-named violation. */
import { Effect, ParseResult, Schema } from "effect";
import { ValidationError, type Violation } from "../errors.ts";

const snakeCase = (segment: string): string =>
  segment.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** `["gitCommit", "authorHandle"]` → `git_commit.author_handle`; `["regions", 2]` → `regions[2]`. */
export const fieldPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>((acc, segment) => {
    if (typeof segment === "number") return `${acc}[${segment}]`;
    const name = snakeCase(String(segment));
    return acc === "" ? name : `${acc}.${name}`;
  }, "");

/**
 * `Schema.optional(S)` decodes `S | undefined`, so when S rejects a value the
 * formatter also reports the `undefined` member ("Expected undefined, actual
 * …", quoting the whole value): noise that tells a user nothing. Dropped.
 */
const isOptionalNoise = (issue: ParseResult.ArrayFormatterIssue): boolean =>
  issue._tag === "Type" && issue.message.startsWith("Expected undefined, actual ");

export const violationsOf = (error: ParseResult.ParseError): Array<Violation> =>
  ParseResult.ArrayFormatter.formatErrorSync(error)
    .filter((issue) => !isOptionalNoise(issue))
    .map((issue) => ({
      field: fieldPath(issue.path) || "request",
      message: issue.message,
    }));

/** Decodes `input` with `schema`, reporting all problems at once as a ValidationError. */
export const decodeRequest =
  <S extends Schema.Schema.AnyNoContext>(schema: S) =>
  (input: unknown): Effect.Effect<Schema.Schema.Type<S>, ValidationError> =>
    Schema.decodeUnknown(schema, { errors: "all", onExcessProperty: "ignore" })(input).pipe(
      Effect.mapError((error) => {
        const [first, ...rest] = violationsOf(error);
        return new ValidationError({
          violations: first ? [first, ...rest] : [{ field: "request", message: error.message }],
        });
      }),
    );
