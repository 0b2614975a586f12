/** Environment variable names and values, as a container runtime accepts them. */
import { Schema } from "effect";
import { utf8ByteLength } from "./utf8.ts";

export const VARIABLE_KEY_MAX_BYTES = 256;
export const VARIABLE_VALUE_MAX_BYTES = 64 * 1024;

export const VariableKey = Schema.String.pipe(
  Schema.filter((key) => {
    if (key.length === 0) return "must not be empty";
    if (utf8ByteLength(key) > VARIABLE_KEY_MAX_BYTES)
      return `must be at most ${VARIABLE_KEY_MAX_BYTES} bytes`;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key))
      return `"${key}" is not a valid name (letters, digits and '_', not starting with a digit)`;
    return true;
  }),
);

export const VariableValueText = Schema.String.pipe(
  Schema.filter((value) => {
    const bytes = utf8ByteLength(value);
    if (bytes > VARIABLE_VALUE_MAX_BYTES)
      return `must be at most ${VARIABLE_VALUE_MAX_BYTES} bytes (got ${bytes})`;
    if (value.includes("\u0000")) return "must not contain NUL characters";
    return true;
  }),
);

export const VariableInput = Schema.Struct({
  key: VariableKey,
  value: VariableValueText,
  secret: Schema.optionalWith(Schema.Boolean, { default: () => false }),
});
export type VariableInput = typeof VariableInput.Type;

/** A batch of variables to set; a key may appear once. */
export const VariableInputs = Schema.Array(VariableInput).pipe(
  Schema.filter((variables) => {
    const seen = new Set<string>();
    for (const [index, variable] of variables.entries()) {
      if (seen.has(variable.key))
        return { path: [index, "key"], message: `"${variable.key}" appears more than once` };
      seen.add(variable.key);
    }
    return true;
  }),
);
