/** inspectArchive against real tar.gz files: every refusal with the message a user sees. */
import { randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";
import { Effect, Either } from "effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ArchiveError, inspectArchive, isRetryableArchiveError } from "../src/index.ts";
import { archiveDir, tarBytes } from "./support/archives.ts";

const MiB = 1024 * 1024;
let files: Awaited<ReturnType<typeof archiveDir>>;

beforeAll(async () => {
  files = await archiveDir();
});
afterAll(async () => {
  await files.cleanup();
});

const DOCKERFILE = "FROM scratch\nARG GREETING\nCOPY . /app\n";

const inspect = (path: string, options: { dockerfile?: string; maxBytes?: number } = {}) =>
  Effect.runPromise(
    Effect.either(
      inspectArchive({
        path,
        maxBytes: options.maxBytes ?? 10 * MiB,
        ...(options.dockerfile === undefined ? {} : { dockerfile: options.dockerfile }),
      }),
    ),
  );

const refusal = async (
  path: string,
  options: {
    dockerfile?: string;
    maxBytes?: number;
    maxUncompressedBytes?: number;
    maxEntries?: number;
  } = {},
): Promise<ArchiveError> => {
  const result = await Effect.runPromise(
    Effect.either(inspectArchive({ path, maxBytes: options.maxBytes ?? 10 * MiB, ...options })),
  );
  if (Either.isRight(result)) throw new Error("expected the archive to be refused");
  return result.left;
};

describe("a good archive", () => {
  it("is accepted, with its Dockerfile's text and its sizes", async () => {
    const path = await files.tarGz([
      { name: "./", type: "directory" },
      { name: "./Dockerfile", content: DOCKERFILE },
      { name: "./src/", type: "directory" },
      { name: "./src/index.html", content: "<h1>hi</h1>\n" },
      { name: "./src/current", type: "symlink", linkname: "index.html" },
      { name: "./src/up-and-back", type: "symlink", linkname: "../src/index.html" },
      { name: "./src/hard", type: "link", linkname: "src/index.html" },
    ]);
    const result = await inspect(path);
    expect(Either.isRight(result)).toBe(true);
    if (Either.isLeft(result)) return;
    expect(result.right.dockerfile).toEqual({ path: "Dockerfile", text: DOCKERFILE });
    expect(result.right.entries).toBe(7);
    expect(result.right.uncompressedBytes).toBeGreaterThan(512 * 7);
  });

  it("finds a Dockerfile at a path given with --dockerfile", async () => {
    const path = await files.tarGz([
      { name: "services/api/Dockerfile.prod", content: DOCKERFILE },
      { name: "services/api/main.go", content: "package main\n" },
    ]);
    const result = await inspect(path, { dockerfile: "./services/api/Dockerfile.prod" });
    expect(Either.isRight(result) && result.right.dockerfile.path).toBe(
      "services/api/Dockerfile.prod",
    );
  });
});

describe("refusals", () => {
  it("a missing file", async () => {
    const error = await refusal(`${files.dir}/nope.tar.gz`);
    expect(error._tag).toBe("ArchiveNotFound");
    expect(error.message).toBe(
      `the source archive ${files.dir}/nope.tar.gz does not exist; upload it again`,
    );
    expect(isRetryableArchiveError(error)).toBe(false);
  });

  it("a directory instead of a file", async () => {
    const error = await refusal(files.dir);
    expect(error._tag).toBe("ArchiveNotFound");
    expect(error.message).toContain("is not a regular file");
  });

  it("an oversize file, saying its size and the limit", async () => {
    const path = await files.file(randomBytes(3 * MiB));
    const error = await refusal(path, { maxBytes: 2 * MiB });
    expect(error._tag).toBe("ArchiveTooLarge");
    expect(error.message).toMatch(/^the source archive is 3 MiB, over the limit of 2 MiB; /);
  });

  it("a file that is not gzip'd, naming what it is when it can", async () => {
    const cases: Array<[Uint8Array, string]> = [
      [Buffer.from("just some text, not an archive\n"), "is not gzip'd"],
      [Buffer.alloc(0), "is an empty file"],
      [Buffer.from("PK\x03\x04rest-of-a-zip", "latin1"), "is a zip file, not a gzip'd tar"],
      [
        await tarBytes([{ name: "Dockerfile", content: DOCKERFILE }]),
        "is a tar that is not gzip'd",
      ],
    ];
    for (const [bytes, expected] of cases) {
      const error = await refusal(await files.file(bytes));
      expect(error._tag).toBe("ArchiveNotTarGz");
      expect(error.message).toContain(expected);
      expect(error.message).toContain("tar -czf source.tar.gz -C <directory> .");
    }
  });

  it("a corrupt or truncated gzip", async () => {
    const good = gzipSync(await tarBytes([{ name: "Dockerfile", content: randomBytes(50_000) }]));
    const truncated = await refusal(await files.file(good.subarray(0, good.length / 2)));
    expect(truncated._tag).toBe("ArchiveNotTarGz");
    expect(truncated.message).toContain("is a damaged or truncated gzip file");
    const garbage = Buffer.concat([good.subarray(0, 10), Buffer.from("garbage garbage garbage")]);
    const corrupt = await refusal(await files.file(garbage));
    expect(corrupt.message).toContain("is a damaged or truncated gzip file");
  });

  it("a gzip that holds no tar, or an empty tar", async () => {
    const notTar = await refusal(
      await files.file(gzipSync(Buffer.from("hello, I am not a tar archive\n".repeat(50)))),
    );
    expect(notTar.message).toContain("is gzip'd, but what is inside is not a tar archive");
    const empty = await refusal(await files.file(gzipSync(Buffer.alloc(1024))));
    expect(empty.message).toContain("is an empty tar archive");
  });

  it("a ../ entry, naming it", async () => {
    const path = await files.tarGz([
      { name: "Dockerfile", content: DOCKERFILE },
      { name: "../x", content: "escape" },
    ]);
    const error = await refusal(path);
    expect(error._tag).toBe("ArchiveEntryUnsafe");
    expect(error.message).toMatch(
      /^the source archive's entry "\.\.\/x" has a "\.\." component, so it points outside the archive; /,
    );
  });

  it("an absolute path, naming it", async () => {
    const path = await files.tarGz([
      { name: "Dockerfile", content: DOCKERFILE },
      { name: "/etc/cron.d/evil", content: "* * * * * root sh" },
    ]);
    const error = await refusal(path);
    expect(error._tag).toBe("ArchiveEntryUnsafe");
    expect(error.message).toContain(`entry "/etc/cron.d/evil" has an absolute path`);
  });

  it("a symlink pointing outside, relative or absolute", async () => {
    const relative = await refusal(
      await files.tarGz([
        { name: "Dockerfile", content: DOCKERFILE },
        { name: "app/secrets", type: "symlink", linkname: "../../../etc/shadow" },
      ]),
    );
    expect(relative._tag).toBe("ArchiveEntryUnsafe");
    expect(relative.message).toContain(
      `entry "app/secrets" is a symbolic link to "../../../etc/shadow", outside the archive`,
    );
    const absolute = await refusal(
      await files.tarGz([{ name: "passwd", type: "symlink", linkname: "/etc/passwd" }]),
    );
    expect(absolute.message).toContain(
      `entry "passwd" is a symbolic link to "/etc/passwd", outside the archive`,
    );
  });

  it("a hard link to outside, and an entry written through a symlink", async () => {
    const hard = await refusal(
      await files.tarGz([{ name: "shadow", type: "link", linkname: "../etc/shadow" }]),
    );
    expect(hard.message).toContain(`entry "shadow" is a hard link to "../etc/shadow"`);
    const through = await refusal(
      await files.tarGz([
        { name: "dir", type: "symlink", linkname: "." },
        { name: "dir/file", content: "x" },
      ]),
    );
    expect(through.message).toContain(
      `entry "dir/file" is written through the symbolic link "dir"`,
    );
  });

  it("a device file", async () => {
    const error = await refusal(await files.tarGz([{ name: "dev/sda", type: "block-device" }]));
    expect(error.message).toContain(`entry "dev/sda" is a device file or a named pipe`);
  });

  it("a missing Dockerfile, suggesting --dockerfile with one found elsewhere", async () => {
    const one = await refusal(
      await files.tarGz([
        { name: "app/", type: "directory" },
        { name: "app/Dockerfile", content: DOCKERFILE },
        { name: "app/main.go", content: "package main\n" },
      ]),
    );
    expect(one._tag).toBe("DockerfileNotFound");
    expect(one.message).toBe(
      `no Dockerfile at "Dockerfile" in the source archive; there is one at "app/Dockerfile": set the Dockerfile path (build_context.dockerfile_path; ferry deploy --dockerfile) to app/Dockerfile. Everything in the archive is under app/: create it from inside that directory (tar -czf source.tar.gz -C app .) so that paths in the Dockerfile match`,
    );
    const several = await refusal(
      await files.tarGz([
        { name: "README.md", content: "hi" },
        { name: "web/Containerfile", content: DOCKERFILE },
        { name: "api/api.Dockerfile", content: DOCKERFILE },
      ]),
    );
    expect(several.message).toBe(
      `no Dockerfile at "Dockerfile" in the source archive; found "api/api.Dockerfile", "web/Containerfile": set the Dockerfile path (build_context.dockerfile_path; ferry deploy --dockerfile) to the one to build`,
    );
    const none = await refusal(await files.tarGz([{ name: "README.md", content: "hi" }]), {
      dockerfile: "deploy/Dockerfile",
    });
    expect(none.message).toBe(
      `no Dockerfile at "deploy/Dockerfile" in the source archive, and none elsewhere in it; add a Dockerfile at the root of the archive, or set the Dockerfile path (build_context.dockerfile_path; ferry deploy --dockerfile) to its path`,
    );
  });

  it("a Dockerfile path outside the context, or that is a directory", async () => {
    const path = await files.tarGz([
      { name: "Dockerfile/", type: "directory" },
      { name: "Dockerfile/x", content: "x" },
    ]);
    expect((await refusal(path, { dockerfile: "../Dockerfile" })).message).toContain(
      "must be a relative path inside the source archive",
    );
    const directory = await refusal(path);
    expect(directory._tag).toBe("DockerfileUnusable");
    expect(directory.message).toContain(`"Dockerfile" in the source archive is a directory`);
  });

  it("the zip-bomb guard: too many bytes once expanded, too many entries", async () => {
    const big = await files.tarGz([
      { name: "Dockerfile", content: DOCKERFILE },
      { name: "zeros", content: Buffer.alloc(4 * MiB) },
    ]);
    const bytes = await refusal(big, { maxUncompressedBytes: MiB });
    expect(bytes._tag).toBe("ArchiveExpandsTooLarge");
    expect(bytes.message).toMatch(/^the source archive expands to more than 1 MiB; /);
    const many = await refusal(
      await files.tarGz(Array.from({ length: 20 }, (_, i) => ({ name: `f${i}`, content: "x" }))),
      { maxEntries: 10 },
    );
    expect(many.message).toMatch(/^the source archive holds more than 10 entries; /);
  });
});
