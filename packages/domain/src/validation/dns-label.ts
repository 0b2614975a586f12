/** DNS labels: slugs and every generated hostname label obey RFC 1123. */
import { Schema } from "effect";

export const DNS_LABEL_MAX_LENGTH = 63;
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

export const isDnsLabel = (value: string): boolean =>
  value.length <= DNS_LABEL_MAX_LENGTH && DNS_LABEL.test(value);

/**
 * A slug (workspace, project, environment): a lowercase DNS label, 1 to 63
 * characters of a-z, 0-9 and '-', not starting or ending with '-', and
 * without "--" (the separator of generated hostnames, rules/hostnames.ts).
 */
export const Slug = Schema.String.pipe(
  Schema.filter((value) => {
    if (value.length === 0) return "must not be empty";
    if (value.length > DNS_LABEL_MAX_LENGTH)
      return `must be at most ${DNS_LABEL_MAX_LENGTH} characters (got ${value.length})`;
    if (!DNS_LABEL.test(value))
      return `must contain only lowercase letters, digits and '-', and start and end with a letter or digit (got "${value}")`;
    if (value.includes("--"))
      return `must not contain "--" (reserved as the separator in generated hostnames)`;
    if (value === "xn")
      return `must not be "xn" (a hostname starting with "xn--" is read as punycode)`;
    return true;
  }),
  Schema.brand("Slug"),
);
export type Slug = typeof Slug.Type;
