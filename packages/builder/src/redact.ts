/**
 * Redaction of secret values in build output. Builds never receive secrets, but a build can
 * still print one (a value baked into the source, an ARG default equal to a secret), and build
 * logs are shown to everyone who can see the deployment.
 */

export const REDACTED = "<redacted>";

/**
 * Values shorter than this are only redacted after their name (`NAME=on`): hiding every "on" or
 * "1" would garble the log, and values that short protect nothing (the rule of
 * @ferry/containers' redactEnv).
 */
export const MIN_REDACTED_LENGTH = 4;

/**
 * A function that replaces every secret value in a line of output. A multi-line value (a PEM
 * key) is redacted line by line, since the log is redacted one line at a time; a value also
 * shows up JSON-escaped (quotes, backslashes) in engine messages, so that form is redacted too.
 */
export const makeRedactor = (
  secrets: Readonly<Record<string, string>>,
): ((line: string) => string) => {
  const pieces = new Set<string>();
  const named: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(secrets)) {
    if (value.length === 0) continue;
    named.push([`${name}=${value}`, `${name}=${REDACTED}`]);
    for (const piece of value.split(/\r?\n/)) {
      if (piece.length < MIN_REDACTED_LENGTH) continue;
      pieces.add(piece);
      const escaped = JSON.stringify(piece).slice(1, -1);
      if (escaped !== piece) pieces.add(escaped);
    }
  }
  // Longest first, so that a value containing another is replaced whole.
  const ordered = [...pieces].sort((a, b) => b.length - a.length);
  if (named.length === 0) return (line) => line;
  return (line) => {
    let out = line;
    for (const [from, to] of named) out = out.split(from).join(to);
    for (const piece of ordered) out = out.split(piece).join(REDACTED);
    return out;
  };
};

/** The secret values, of those `makeRedactor` hides anywhere, that `text` contains. */
export const containsSecret = (
  text: string,
  secrets: Readonly<Record<string, string>>,
): string | undefined => {
  for (const [name, value] of Object.entries(secrets)) {
    if (value.length >= MIN_REDACTED_LENGTH && text.includes(value)) return name;
  }
  return undefined;
};
