/** Regions a deployment runs in: a subset of the platform's available regions. */
import { ParseResult, Schema } from "effect";

/** An empty list means every available region; duplicates are removed, order kept. */
export const regionsInput = (available: ReadonlyArray<string>) =>
  Schema.transformOrFail(Schema.Array(Schema.String), Schema.Array(Schema.String), {
    strict: true,
    decode: (requested, _options, ast) => {
      if (requested.length === 0) return ParseResult.succeed([...available]);
      const unknown = requested.filter((region) => !available.includes(region));
      if (unknown.length > 0) {
        return ParseResult.fail(
          new ParseResult.Type(
            ast,
            requested,
            `unknown region${unknown.length > 1 ? "s" : ""} ${unknown.map((r) => `"${r}"`).join(", ")}; available: ${available.join(", ")}`,
          ),
        );
      }
      return ParseResult.succeed([...new Set(requested)]);
    },
    encode: (regions) => ParseResult.succeed(regions),
  });
