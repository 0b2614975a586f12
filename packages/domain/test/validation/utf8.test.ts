import { describe, expect, it } from "@effect/vitest";
import { truncateUtf8, utf8ByteLength } from "../../src/validation/utf8.ts";
import { hostUtf8Bytes, hostUtf8Length } from "../helpers.ts";

const SAMPLES: ReadonlyArray<readonly [label: string, value: string]> = [
  ["empty", ""],
  ["ASCII", "hello, world"],
  ["DEL and NUL", "\u0000\u007f"],
  ["2-byte (é, ß)", "élan ßtraße"],
  ["boundary U+007F/U+0080", "\u007f\u0080"],
  ["boundary U+07FF/U+0800", "\u07ff\u0800"],
  ["3-byte (€, 中文)", "€ 中文"],
  ["boundary U+FFFF", "\uffff"],
  ["4-byte emoji", "🚀🎉"],
  ["ZWJ family emoji", "👨‍👩‍👧"],
  ["flag (two regional indicators)", "🇫🇷"],
  ["combining mark", "e\u0301"],
  ["mixed", "a€🚀é"],
  ["highest code point", "\u{10ffff}"],
];

describe("utf8ByteLength", () => {
  it.each(SAMPLES)("matches TextEncoder for %s", (_label, value) => {
    expect(utf8ByteLength(value)).toBe(hostUtf8Length(value));
  });

  it("counts each width exactly", () => {
    expect(utf8ByteLength("a")).toBe(1);
    expect(utf8ByteLength("é")).toBe(2);
    expect(utf8ByteLength("€")).toBe(3);
    expect(utf8ByteLength("🚀")).toBe(4);
  });

  it("counts a lone surrogate as 3 bytes, as TextEncoder does (it encodes U+FFFD)", () => {
    for (const lone of ["\ud800", "\udfff", "a\ud83dz", "\ude80b"]) {
      expect(utf8ByteLength(lone)).toBe(hostUtf8Length(lone));
    }
    expect(utf8ByteLength("\ud800")).toBe(3);
  });
});

describe("truncateUtf8", () => {
  it.each(SAMPLES)("is the longest whole-character prefix that fits, for %s", (_label, value) => {
    const total = hostUtf8Length(value);
    for (let limit = 0; limit <= total + 1; limit++) {
      const cut = truncateUtf8(value, limit);
      const cutBytes = hostUtf8Length(cut);
      expect(value.startsWith(cut)).toBe(true);
      expect(cutBytes).toBeLessThanOrEqual(limit);
      // The result's bytes are a prefix of the original's: no character is split.
      expect(hostUtf8Bytes(value).slice(0, cutBytes)).toEqual(hostUtf8Bytes(cut));
      // Maximal: the next code point (if any) would not fit.
      const next = value.slice(cut.length).codePointAt(0);
      if (next !== undefined) {
        expect(cutBytes + hostUtf8Length(String.fromCodePoint(next))).toBeGreaterThan(limit);
      } else {
        expect(cut).toBe(value);
      }
    }
  });

  it("returns the value unchanged when it fits exactly", () => {
    expect(truncateUtf8("abc", 3)).toBe("abc");
    expect(truncateUtf8("🚀", 4)).toBe("🚀");
  });

  it("drops a character that straddles the limit whole", () => {
    expect(truncateUtf8("aé", 2)).toBe("a");
    expect(truncateUtf8("a€", 3)).toBe("a");
    expect(truncateUtf8("a€", 2)).toBe("a");
    expect(truncateUtf8("a🚀", 4)).toBe("a");
    expect(truncateUtf8("a🚀", 5)).toBe("a🚀");
    expect(truncateUtf8("🚀", 3)).toBe("");
  });

  it("never leaves half of a surrogate pair", () => {
    const cut = truncateUtf8("x🚀", 3);
    expect(cut).toBe("x");
    expect(cut.length).toBe(1);
  });

  it("keeps a lone surrogate when its 3 bytes fit and drops it when they do not", () => {
    expect(truncateUtf8("a\ud800", 4)).toBe("a\ud800");
    expect(truncateUtf8("a\ud800", 3)).toBe("a");
  });

  it("returns an empty string for a zero limit", () => {
    expect(truncateUtf8("abc", 0)).toBe("");
  });
});
