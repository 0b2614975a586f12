import { describe, expect, it } from "@effect/vitest";
import { regionsInput } from "../../src/validation/regions.ts";
import { decodeOk, decodeViolations } from "../helpers.ts";

const AVAILABLE = ["eu-west", "us-east", "ap-south"];
const regions = regionsInput(AVAILABLE);

describe("regionsInput", () => {
  it("reads an empty list as every available region, in order", () => {
    expect(decodeOk(regions, [])).toEqual(AVAILABLE);
  });

  it("returns a copy, not the platform's own array", () => {
    expect(decodeOk(regions, [])).not.toBe(AVAILABLE);
  });

  it("keeps a subset in the requested order", () => {
    expect(decodeOk(regions, ["ap-south", "eu-west"])).toEqual(["ap-south", "eu-west"]);
  });

  it("removes duplicates, keeping the first occurrence", () => {
    expect(decodeOk(regions, ["us-east", "eu-west", "us-east", "us-east"])).toEqual([
      "us-east",
      "eu-west",
    ]);
  });

  it("rejects one unknown region, listing the available ones", () => {
    expect(decodeViolations(regions, ["eu-west", "EU-WEST"])).toEqual([
      {
        field: "request",
        message: 'unknown region "EU-WEST"; available: eu-west, us-east, ap-south',
      },
    ]);
  });

  it("rejects several unknown regions in one message", () => {
    expect(decodeViolations(regions, ["mars", "eu-west", "venus"])).toEqual([
      {
        field: "request",
        message: 'unknown regions "mars", "venus"; available: eu-west, us-east, ap-south',
      },
    ]);
  });

  it("rejects a non-array", () => {
    expect(decodeViolations(regions, "eu-west")).toEqual([
      { field: "request", message: 'Expected ReadonlyArray<string>, actual "eu-west"' },
    ]);
  });
});
