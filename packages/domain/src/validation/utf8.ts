/**
 * UTF-8 byte arithmetic: the API's size limits are in bytes, not characters.
 * Computed from code points so the domain needs no TextEncoder (a host API).
 */
const bytesOfCodePoint = (codePoint: number): number =>
  codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;

export const utf8ByteLength = (value: string): number => {
  let bytes = 0;
  for (const char of value) bytes += bytesOfCodePoint(char.codePointAt(0) ?? 0);
  return bytes;
};

/**
 * The longest prefix of `value` that fits in `maxBytes` bytes of UTF-8 without
 * splitting a character: a character that does not fit is dropped whole.
 */
export const truncateUtf8 = (value: string, maxBytes: number): string => {
  let bytes = 0;
  let end = 0;
  for (const char of value) {
    bytes += bytesOfCodePoint(char.codePointAt(0) ?? 0);
    if (bytes > maxBytes) return value.slice(0, end);
    end += char.length;
  }
  return value;
};
