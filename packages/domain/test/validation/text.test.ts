import { describe, expect, it } from "@effect/vitest";
import { hasControlCharacter } from "../../src/validation/text.ts";

describe("hasControlCharacter", () => {
  it.each([
    ["", false],
    ["plain text", false],
    ["~", false],
    ["é€🚀", false],
    ["\u0080", false],
    ["\u0000", true],
    ["a\tb", true],
    ["a\nb", true],
    ["\u001f", true],
    ["\u007f", true],
  ])("%j → %s", (value, expected) => {
    expect(hasControlCharacter(value)).toBe(expected);
  });
});
