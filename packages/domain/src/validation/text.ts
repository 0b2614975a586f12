/** Character-class checks shared by the validators. */

/** C0 controls (U+0000–U+001F) and DEL (U+007F). */
export const hasControlCharacter = (value: string): boolean => {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
};
