/** How appendLogs stores lines: UTF-8 repaired, split at line breaks and at 16384 bytes; the budget's tail; offsets stored once. */
import { describe, expect, it } from "vitest";
import {
  decodeUtf8,
  type LogLineInput,
  MAX_LOG_LINE_BYTES,
  normalizeLogLines,
  tailWithinLimits,
  unstoredLines,
  utf8ByteLength,
} from "../../src/index.ts";

/** The runtime's decoder (the domain compiles without host types). */
const TextDecoder = (
  globalThis as unknown as {
    readonly TextDecoder: new () => { decode(bytes: Uint8Array): string };
  }
).TextDecoder;

const input = (text: string | Uint8Array, extra: Partial<LogLineInput> = {}): LogLineInput => ({
  step: "BUILDING",
  stream: "STDOUT",
  text,
  at: 1,
  ...extra,
});

const texts = (lines: ReadonlyArray<LogLineInput>) =>
  normalizeLogLines(lines).map((sized) => sized.line.text);

describe("decodeUtf8", () => {
  const cases: ReadonlyArray<readonly [string, ReadonlyArray<number>]> = [
    ["ascii", [0x68, 0x69]],
    ["two, three and four bytes", [0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x9a, 0x80]],
    ["a lone continuation byte", [0x61, 0x80, 0x62]],
    ["a truncated sequence at the end", [0x61, 0xe2, 0x82]],
    ["a truncated sequence before ascii", [0xe2, 0x82, 0x61]],
    ["overlong encodings", [0xc0, 0xaf, 0xe0, 0x80, 0xaf]],
    ["surrogates encoded", [0xed, 0xa0, 0x80]],
    ["beyond U+10FFFF", [0xf4, 0x90, 0x80, 0x80]],
    ["invalid lead bytes", [0xf5, 0xff, 0xfe]],
    ["NUL is kept by the decoder", [0x00]],
  ];
  it.each(cases)("decodes %s like TextDecoder", (_, bytes) => {
    const array = new Uint8Array(bytes);
    expect(decodeUtf8(array)).toBe(new TextDecoder().decode(array));
  });

  it("decodes long input (more code points than one call may take)", () => {
    const text = "ü".repeat(50_000);
    const bytes = new Uint8Array(Array.from({ length: 50_000 }, () => [0xc3, 0xbc]).flat());
    expect(decodeUtf8(bytes)).toBe(text);
  });
});

describe("normalizeLogLines", () => {
  it("keeps clean lines as they are, with their step, stream, region and time", () => {
    expect(
      normalizeLogLines([
        input("Step 1/3 : FROM scratch", { region: "local-1", at: 42, stream: "STDERR" }),
      ]),
    ).toStrictEqual([
      {
        line: {
          step: "BUILDING",
          stream: "STDERR",
          region: "local-1",
          text: "Step 1/3 : FROM scratch",
          at: 42,
        },
        bytes: 23,
      },
    ]);
    // An empty region is no region.
    expect(normalizeLogLines([input("x", { region: "" })])[0]?.line).not.toHaveProperty("region");
  });

  it("replaces invalid UTF-8, lone surrogates and NUL with U+FFFD", () => {
    expect(texts([input(new Uint8Array([0x6f, 0x6b, 0xff, 0x21]))])).toStrictEqual(["ok\uFFFD!"]);
    expect(texts([input("a\uD800b\uDC00c")])).toStrictEqual(["a\uFFFDb\uFFFDc"]);
    expect(texts([input("nul\u0000here")])).toStrictEqual(["nul\uFFFDhere"]);
    expect(texts([input("emoji 🚀 stays")])).toStrictEqual(["emoji 🚀 stays"]);
  });

  it("splits at line breaks, dropping terminators", () => {
    expect(texts([input("one\r\ntwo\n\nfour\n")])).toStrictEqual(["one", "two", "", "four"]);
    expect(texts([input("")])).toStrictEqual([""]);
    expect(texts([input("\n")])).toStrictEqual([""]);
  });

  it("splits a line longer than 16384 bytes, never inside a character", () => {
    const long = "€".repeat(6000); // 18000 bytes
    const pieces = normalizeLogLines([input(long)]);
    expect(pieces.map((p) => p.bytes)).toStrictEqual([16383, 1617]);
    expect(pieces.map((p) => p.line.text).join("")).toBe(long);
    for (const piece of pieces) {
      expect(utf8ByteLength(piece.line.text)).toBe(piece.bytes);
      expect(piece.bytes).toBeLessThanOrEqual(MAX_LOG_LINE_BYTES);
    }
    const exact = "a".repeat(MAX_LOG_LINE_BYTES);
    expect(texts([input(exact)])).toStrictEqual([exact]);
    expect(texts([input(`${exact}b`)])).toStrictEqual([exact, "b"]);
  });
});

describe("tailWithinLimits", () => {
  const sized = (...bytes: Array<number>) => bytes.map((b, i) => ({ i, bytes: b }));
  it("keeps the longest tail within both limits", () => {
    expect(tailWithinLimits(sized(1, 1, 1), { maxLines: 5, maxBytes: 10 })).toHaveLength(3);
    expect(
      tailWithinLimits(sized(1, 1, 1), { maxLines: 2, maxBytes: 10 }).map((l) => l.i),
    ).toStrictEqual([1, 2]);
    expect(
      tailWithinLimits(sized(5, 4, 3, 3), { maxLines: 10, maxBytes: 10 }).map((l) => l.i),
    ).toStrictEqual([1, 2, 3]);
    expect(tailWithinLimits([], { maxLines: 1, maxBytes: 1 })).toStrictEqual([]);
  });
});

describe("unstoredLines", () => {
  const at = (offset: number, text = `line at ${offset}`) => input(text, { offset });

  it("keeps the lines above the stored offset and returns the new one", () => {
    const lines = [at(0), at(8), at(16)];
    expect(unstoredLines(lines, null)).toStrictEqual({ lines, offset: 16 });
    expect(unstoredLines(lines, 8)).toStrictEqual({ lines: [at(16)], offset: 16 });
    expect(unstoredLines(lines, 16)).toStrictEqual({ lines: [], offset: 16 });
  });

  it("keeps lines without an offset, and drops a line not above an earlier one of the batch", () => {
    const plain = input("no offset");
    expect(unstoredLines([plain, at(4), at(4), at(2), plain], null)).toStrictEqual({
      lines: [plain, at(4), plain],
      offset: 4,
    });
    expect(unstoredLines([plain], 7)).toStrictEqual({ lines: [plain], offset: 7 });
  });

  it("refuses an offset that is not a whole number of bytes (a caller's bug)", () => {
    expect(() => unstoredLines([at(-1)], null)).toThrow(/whole number of bytes \(got -1\)/);
    expect(() => unstoredLines([at(1.5)], null)).toThrow(/got 1\.5/);
  });
});
