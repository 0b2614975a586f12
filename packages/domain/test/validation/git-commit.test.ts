import { describe, expect, it } from "@effect/vitest";
import {
  AUTHOR_AVATAR_URL_MAX_BYTES,
  AUTHOR_HANDLE_MAX_BYTES,
  AuthorAvatarUrl,
  AuthorHandle,
  BRANCH_MAX_BYTES,
  BranchName,
  COMMIT_MESSAGE_MAX_BYTES,
  CommitMessage,
  CommitSha,
  commitTimestamp,
  gitCommitInput,
  MAX_COMMIT_CLOCK_SKEW_MS,
  MIN_COMMIT_TIMESTAMP_MS,
  withoutZeroValues,
} from "../../src/validation/git-commit.ts";
import { utf8ByteLength } from "../../src/validation/utf8.ts";
import {
  decodeOk,
  decodeViolations,
  HOUR_MS,
  hostUtf8Length,
  NOW,
  validateOk,
  validateViolations,
  withGitCommit,
} from "../helpers.ts";

describe("limits", () => {
  it("are the API contract's", () => {
    expect(COMMIT_MESSAGE_MAX_BYTES).toBe(10240);
    expect(AUTHOR_HANDLE_MAX_BYTES).toBe(256);
    expect(AUTHOR_AVATAR_URL_MAX_BYTES).toBe(512);
    expect(BRANCH_MAX_BYTES).toBe(255);
    expect(MIN_COMMIT_TIMESTAMP_MS).toBe(1e12);
    expect(MAX_COMMIT_CLOCK_SKEW_MS).toBe(HOUR_MS);
  });
});

describe("commit message", () => {
  const decode = (message: string): string => decodeOk(CommitMessage, message);

  it("keeps a message of exactly 10240 bytes unchanged", () => {
    const message = "m".repeat(10240);
    expect(decode(message)).toBe(message);
  });

  it("truncates 10241 ASCII bytes to 10240", () => {
    const result = decode("m".repeat(10241));
    expect(result).toBe("m".repeat(10240));
  });

  it("truncates a long message instead of rejecting it", () => {
    const result = decode("x".repeat(50_000));
    expect(result.length).toBe(10240);
  });

  it("keeps an exact-limit message that ends in multi-byte characters", () => {
    const message = `${"a".repeat(10240 - 4)}🚀`;
    expect(utf8ByteLength(message)).toBe(10240);
    expect(decode(message)).toBe(message);
  });

  it.each([
    ["2-byte", "é", 2],
    ["3-byte", "€", 3],
    ["4-byte", "🚀", 4],
  ] as const)("drops a %s character that straddles the limit whole", (_label, char, width) => {
    // The character starts one byte before the limit, so its last bytes fall past it.
    const prefix = "a".repeat(10240 - 1);
    const result = decode(`${prefix}${char}tail`);
    expect(result).toBe(prefix);
    expect(hostUtf8Length(result)).toBe(10239);
    expect(hostUtf8Length(`${prefix}${char}`)).toBe(10239 + width);
  });

  it.each([
    ["2-byte", "é"],
    ["3-byte", "€"],
    ["4-byte", "🚀"],
  ] as const)("keeps a %s character that ends exactly at the limit", (_label, char) => {
    const prefix = "a".repeat(10240 - hostUtf8Length(char));
    expect(decode(`${prefix}${char}more`)).toBe(`${prefix}${char}`);
  });

  it("truncates a message made only of 3-byte characters to whole characters", () => {
    // 3414 × 3 = 10242 bytes: 3413 characters (10239 bytes) fit, the last does not.
    const result = decode("中".repeat(3414));
    expect(result).toBe("中".repeat(3413));
    expect(hostUtf8Length(result)).toBe(10239);
  });

  it("truncates through validateCreateDeployment and reports nothing", () => {
    const result = validateOk(withGitCommit({ commitMessage: `${"a".repeat(10239)}🚀` }));
    expect(result.gitCommit?.commitMessage).toBe("a".repeat(10239));
  });

  it("rejects a non-string message", () => {
    expect(decodeViolations(CommitMessage, 42)).toEqual([
      { field: "request", message: "Expected string, actual 42" },
    ]);
  });
});

describe("author handle", () => {
  it("accepts exactly 256 bytes", () => {
    expect(decodeOk(AuthorHandle, "h".repeat(256))).toBe("h".repeat(256));
  });

  it("rejects 257 bytes, naming the limit and the size", () => {
    expect(decodeViolations(AuthorHandle, "h".repeat(257))).toEqual([
      { field: "request", message: "must be at most 256 bytes (got 257)" },
    ]);
  });

  it("counts multi-byte characters in bytes, not characters", () => {
    // 128 × 2 bytes = 256: accepted; 86 × 3 = 258: rejected although only 86 characters.
    expect(decodeOk(AuthorHandle, "é".repeat(128))).toBe("é".repeat(128));
    expect(decodeViolations(AuthorHandle, "€".repeat(86))).toEqual([
      { field: "request", message: "must be at most 256 bytes (got 258)" },
    ]);
    expect(decodeOk(AuthorHandle, "🚀".repeat(64))).toBe("🚀".repeat(64));
    expect(decodeViolations(AuthorHandle, `${"🚀".repeat(64)}a`)).toEqual([
      { field: "request", message: "must be at most 256 bytes (got 257)" },
    ]);
  });

  it("names git_commit.author_handle in a CreateDeployment request", () => {
    expect(validateViolations(withGitCommit({ authorHandle: "é".repeat(129) }))).toEqual([
      { field: "git_commit.author_handle", message: "must be at most 256 bytes (got 258)" },
    ]);
  });
});

describe("author avatar URL", () => {
  const urlOfBytes = (bytes: number): string => {
    const head = "https://avatars.example.com/";
    return `${head}${"a".repeat(bytes - head.length)}`;
  };

  it("accepts exactly 512 bytes", () => {
    const url = urlOfBytes(512);
    expect(decodeOk(AuthorAvatarUrl, url)).toBe(url);
  });

  it("rejects 513 bytes, naming the limit", () => {
    expect(decodeViolations(AuthorAvatarUrl, urlOfBytes(513))).toEqual([
      { field: "request", message: "must be at most 512 bytes (got 513)" },
    ]);
  });

  it("counts multi-byte characters in bytes", () => {
    const url = `https://example.com/${"é".repeat(246)}`; // 20 + 492 = 512 bytes
    expect(utf8ByteLength(url)).toBe(512);
    expect(decodeOk(AuthorAvatarUrl, url)).toBe(url);
    expect(decodeViolations(AuthorAvatarUrl, `${url}é`)).toEqual([
      { field: "request", message: "must be at most 512 bytes (got 514)" },
    ]);
  });

  it.each([
    "https://avatars.githubusercontent.com/u/1?v=4",
    "http://localhost:8080/a.png",
    "HTTPS://EXAMPLE.COM/A.PNG",
  ])("accepts the http(s) URL %s", (url) => {
    expect(decodeOk(AuthorAvatarUrl, url)).toBe(url);
  });

  it.each([
    "ftp://example.com/a.png",
    "javascript:alert(1)",
    "data:image/png;base64,AAAA",
    "//example.com/a.png",
    "example.com/a.png",
    "https://",
    "https:///path",
    "https:// example.com",
  ])("rejects %s as not an http(s) URL", (url) => {
    expect(decodeViolations(AuthorAvatarUrl, url)).toEqual([
      { field: "request", message: "must be an http or https URL" },
    ]);
  });

  it("names git_commit.author_avatar_url in a CreateDeployment request", () => {
    expect(validateViolations(withGitCommit({ authorAvatarUrl: "ftp://x/y" }))).toEqual([
      { field: "git_commit.author_avatar_url", message: "must be an http or https URL" },
    ]);
  });
});

describe("timestamp", () => {
  const decode = (ts: unknown) => decodeOk(commitTimestamp(NOW), ts);
  const violations = (ts: unknown) => decodeViolations(commitTimestamp(NOW), ts);

  it("accepts exactly 1e12 ms (the first value not read as seconds)", () => {
    expect(decode(1e12)).toBe(1e12);
  });

  it("rejects 1e12 - 1 as looking like seconds, telling how to fix it", () => {
    expect(violations(1e12 - 1)).toEqual([
      {
        field: "request",
        message:
          "must be Unix epoch milliseconds; 999999999999 looks like seconds (multiply by 1000)",
      },
    ]);
  });

  it("rejects a seconds timestamp of the present day", () => {
    const [violation] = violations(Math.floor(NOW / 1000));
    expect(violation?.message).toBe(
      "must be Unix epoch milliseconds; 1764000000 looks like seconds (multiply by 1000)",
    );
  });

  it("rejects negative timestamps", () => {
    expect(violations(-1)[0]?.message).toContain("looks like seconds");
  });

  it("accepts now and exactly one hour in the future", () => {
    expect(decode(NOW)).toBe(NOW);
    expect(decode(NOW + HOUR_MS)).toBe(NOW + HOUR_MS);
  });

  it("rejects one hour and one millisecond in the future, showing both times", () => {
    expect(violations(NOW + HOUR_MS + 1)).toEqual([
      {
        field: "request",
        message:
          "must not be more than one hour in the future (got 2025-11-24T17:00:00.001Z, server time 2025-11-24T16:00:00.000Z)",
      },
    ]);
  });

  it("rejects a far-future timestamp beyond the Date range without throwing", () => {
    // 8.64e15 + 1 is a safe integer but not a representable Date.
    expect(violations(8_640_000_000_000_001)).toEqual([
      {
        field: "request",
        message:
          "must not be more than one hour in the future (got 8640000000000001 ms, server time 2025-11-24T16:00:00.000Z)",
      },
    ]);
  });

  it.each([
    [1_500_000_000_000.5, "1500000000000.5"],
    [Number.NaN, "NaN"],
    [Number.POSITIVE_INFINITY, "Infinity"],
    [2 ** 53, "9007199254740992"],
  ])("rejects the non-integer or unsafe value %s", (ts, shown) => {
    expect(violations(ts)).toEqual([
      { field: "request", message: `must be an integer number of milliseconds (got ${shown})` },
    ]);
  });

  it("rejects a string", () => {
    expect(violations("1764000000000")).toEqual([
      { field: "request", message: 'Expected number, actual "1764000000000"' },
    ]);
  });

  it("judges the future against the `now` it is given", () => {
    const later = NOW + 10 * HOUR_MS;
    expect(decodeOk(commitTimestamp(later), NOW + 5 * HOUR_MS)).toBe(NOW + 5 * HOUR_MS);
    expect(decodeViolations(commitTimestamp(NOW), NOW + 5 * HOUR_MS)).toHaveLength(1);
  });

  it("names git_commit.timestamp in a CreateDeployment request", () => {
    expect(validateViolations(withGitCommit({ timestamp: 1_764_000_000 }))).toEqual([
      {
        field: "git_commit.timestamp",
        message:
          "must be Unix epoch milliseconds; 1764000000 looks like seconds (multiply by 1000)",
      },
    ]);
    expect(validateViolations(withGitCommit({ timestamp: NOW + HOUR_MS + 1 }))).toEqual([
      {
        field: "git_commit.timestamp",
        message:
          "must not be more than one hour in the future (got 2025-11-24T17:00:00.001Z, server time 2025-11-24T16:00:00.000Z)",
      },
    ]);
    expect(validateOk(withGitCommit({ timestamp: NOW + HOUR_MS })).gitCommit).toEqual({
      timestamp: NOW + HOUR_MS,
    });
  });
});

describe("commit sha", () => {
  it.each([
    ["abcdef0", "abcdef0"],
    ["ABCDEF0", "abcdef0"],
    ["0123456789ABCDEF0123456789abcdef01234567", "0123456789abcdef0123456789abcdef01234567"],
    ["F".repeat(64), "f".repeat(64)],
  ])("accepts %s and lowercases it", (sha, expected) => {
    expect(decodeOk(CommitSha, sha)).toBe(expected);
  });

  it.each([
    ["6 characters", "abcdef"],
    ["65 characters", "a".repeat(65)],
    ["a non-hex letter", "abcdefg"],
    ["a space", "abc def0"],
    ["empty", ""],
  ])("rejects %s", (_label, sha) => {
    expect(decodeViolations(CommitSha, sha)).toEqual([
      { field: "request", message: "must be 7 to 64 hexadecimal characters" },
    ]);
  });

  it("names git_commit.commit_sha and lowercases in a CreateDeployment request", () => {
    expect(validateViolations(withGitCommit({ commitSha: "xyz1234" }))).toEqual([
      { field: "git_commit.commit_sha", message: "must be 7 to 64 hexadecimal characters" },
    ]);
    expect(validateOk(withGitCommit({ commitSha: "ABCDEF0" })).gitCommit?.commitSha).toBe(
      "abcdef0",
    );
  });
});

describe("branch name", () => {
  it.each([
    "main",
    "feature/login",
    "release-1.2",
    "fix_bug",
    "user/feature/deep/nesting",
    "v1.0.0",
    "a",
    "dots.in.the.middle",
    "feature/ünïcode",
    "x".repeat(255),
  ])("accepts %s", (branch) => {
    expect(decodeOk(BranchName, branch)).toBe(branch);
  });

  it("rejects 256 bytes, naming the limit", () => {
    expect(decodeViolations(BranchName, "x".repeat(256))).toEqual([
      { field: "request", message: "must be at most 255 bytes (got 256)" },
    ]);
    expect(decodeViolations(BranchName, "é".repeat(128))).toEqual([
      { field: "request", message: "must be at most 255 bytes (got 256)" },
    ]);
  });

  const CHARACTERS = "must not contain whitespace, control characters or any of ~ ^ : ? * [ \\";
  const ENDS = "must not start with '-' or '/', or end with '/'";
  const SEQUENCES = "must not contain '..', '//' or '@{'";
  const SUFFIX = "must not end with '.lock' or '.'";

  it.each([
    ["a space", "my branch", CHARACTERS],
    ["a tab", "a\tb", CHARACTERS],
    ["a newline", "a\nb", CHARACTERS],
    ["a control character", "a\u0001b", CHARACTERS],
    ["DEL", "a\u007fb", CHARACTERS],
    ["~", "a~1", CHARACTERS],
    ["^", "a^1", CHARACTERS],
    [":", "a:b", CHARACTERS],
    ["?", "a?", CHARACTERS],
    ["*", "a*", CHARACTERS],
    ["[", "a[b", CHARACTERS],
    ["a backslash", "a\\b", CHARACTERS],
    ["a leading '-'", "-x", ENDS],
    ["a leading '/'", "/x", ENDS],
    ["a trailing '/'", "x/", ENDS],
    ["'..'", "a..b", SEQUENCES],
    ["'//'", "a//b", SEQUENCES],
    ["'@{'", "a@{1}", SEQUENCES],
    ["a '.lock' suffix", "topic.lock", SUFFIX],
    ["a trailing '.'", "topic.", SUFFIX],
    ["empty", "", "must not be empty"],
  ])("rejects %s", (_label, branch, message) => {
    expect(decodeViolations(BranchName, branch)).toEqual([{ field: "request", message }]);
  });

  it("names git_commit.branch in a CreateDeployment request", () => {
    expect(validateViolations(withGitCommit({ branch: "a..b" }))).toEqual([
      { field: "git_commit.branch", message: SEQUENCES },
    ]);
  });
});

describe("gitCommitInput", () => {
  it("decodes a full commit, normalizing each field", () => {
    const input = {
      commitSha: "ABCDEF0123",
      branch: "main",
      commitMessage: "Fix the thing",
      authorHandle: "octocat",
      authorAvatarUrl: "https://example.com/a.png",
      timestamp: NOW,
    };
    expect(decodeOk(gitCommitInput(NOW), input)).toEqual({ ...input, commitSha: "abcdef0123" });
  });

  it("reports every bad field at once, each with its own path", () => {
    expect(
      decodeViolations(gitCommitInput(NOW), {
        commitSha: "nope",
        branch: "a b",
        authorHandle: "h".repeat(300),
        authorAvatarUrl: "ftp://x",
        timestamp: 5,
      }),
    ).toEqual([
      { field: "commit_sha", message: "must be 7 to 64 hexadecimal characters" },
      {
        field: "branch",
        message: "must not contain whitespace, control characters or any of ~ ^ : ? * [ \\",
      },
      { field: "author_handle", message: "must be at most 256 bytes (got 300)" },
      { field: "author_avatar_url", message: "must be an http or https URL" },
      {
        field: "timestamp",
        message: "must be Unix epoch milliseconds; 5 looks like seconds (multiply by 1000)",
      },
    ]);
  });
});

describe("withoutZeroValues (proto3 defaults)", () => {
  it('drops "", 0, 0n and undefined, keeps everything else', () => {
    expect(
      withoutZeroValues({
        a: "",
        b: 0,
        c: BigInt(0),
        d: undefined,
        e: "x",
        f: 1,
        g: false,
        h: null,
        i: [],
      }),
    ).toEqual({ e: "x", f: 1, g: false, h: null, i: [] });
  });

  it('treats timestamp 0 and "" fields as absent in a CreateDeployment request', () => {
    const result = validateOk(
      withGitCommit({ commitSha: "abcdef0", branch: "", commitMessage: "", timestamp: 0 }),
    );
    expect(result.gitCommit).toEqual({ commitSha: "abcdef0" });
  });

  it("drops an all-empty git_commit entirely", () => {
    const result = validateOk(
      withGitCommit({
        commitSha: "",
        branch: "",
        commitMessage: "",
        authorHandle: "",
        authorAvatarUrl: "",
        timestamp: 0,
      }),
    );
    expect(result).not.toHaveProperty("gitCommit");
  });

  it("drops an empty git_commit object", () => {
    expect(validateOk(withGitCommit({}))).not.toHaveProperty("gitCommit");
  });
});
