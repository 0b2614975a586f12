/** Client-chosen idempotency keys: the same key in the same workspace returns the first result. */
import { Schema } from "effect";

export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;

export const IdempotencyKey = Schema.String.pipe(
  Schema.filter((key) => {
    if (key.length > IDEMPOTENCY_KEY_MAX_LENGTH)
      return `must be at most ${IDEMPOTENCY_KEY_MAX_LENGTH} characters (got ${key.length})`;
    if (!/^[\x21-\x7e]+$/.test(key)) return "must be printable ASCII without spaces";
    return true;
  }),
);
