/**
 * Abandoned uploads: build contexts stored under `projects/<project>/contexts/` that no
 * deployment references (the CreateDeployment after the upload was refused, or never made).
 * Walking deployments never finds them, so the sweep also walks build storage, one page per
 * `ctx.run` (findOrphans), and removes each orphan in its own `ctx.run` (removeOrphan).
 *
 * An upload counts as abandoned once it is older than the upload URL's lifetime plus the
 * retention period: a CreateDeployment for it would have come long before. Each removal asks
 * the database again right before it (a deployment created from the key since the listing keeps
 * it), and removing a key that is already gone succeeds: a repeat after a crash is harmless.
 */
import { BuildStorage, RetentionRepository } from "@ferry/domain";
import { Effect } from "effect";

/** Where uploads live; every key is `projects/<project>/contexts/<name>` (CreateUploadUrl). */
export const UPLOADS_PREFIX = "projects/";
const CONTEXT_KEY = /^projects\/[^/]+\/contexts\/[^/]+$/;

export interface OrphanPage {
  /** Keys of abandoned uploads in this page, in key order. */
  readonly orphans: ReadonlyArray<string>;
  /** Stored objects looked at in this page. */
  readonly listed: number;
  /** Where the next page starts: the last key listed, or "" when this was the last page. */
  readonly nextAfter: string;
}

export const findOrphans = (input: {
  readonly now: number;
  /** Uploads younger than this are left alone (upload URL lifetime + retention period). */
  readonly minAgeMs: number;
  readonly after: string;
  readonly limit: number;
}) =>
  Effect.gen(function* () {
    const page = yield* (yield* BuildStorage).list(UPLOADS_PREFIX, {
      after: input.after === "" ? undefined : input.after,
      limit: input.limit,
    });
    const old = page.objects
      .filter(
        (object) =>
          CONTEXT_KEY.test(object.key) && input.now - object.lastModifiedAt > input.minAgeMs,
      )
      .map((object) => object.key);
    // One indexed query (deployments.build_context_path) for the whole page.
    const referenced = new Set(yield* (yield* RetentionRepository).referencedContextKeys(old));
    return {
      orphans: old.filter((key) => !referenced.has(key)),
      listed: page.objects.length,
      nextAfter: page.nextAfter ?? "",
    } satisfies OrphanPage;
  }).pipe(Effect.mapError((error) => new Error(error.message)));

export type OrphanRemoval =
  | { readonly outcome: "removed" }
  | { readonly outcome: "kept"; readonly reason: "referenced" }
  | { readonly outcome: "failed"; readonly error: string };

/** Removes one abandoned upload, unless a deployment references it by now. */
export const removeOrphan = (key: string) =>
  Effect.gen(function* () {
    const referenced = yield* (yield* RetentionRepository).referencedContextKeys([key]);
    if (referenced.length > 0)
      return { outcome: "kept", reason: "referenced" } satisfies OrphanRemoval;
    return yield* (yield* BuildStorage).remove(key).pipe(
      Effect.as({ outcome: "removed" } satisfies OrphanRemoval as OrphanRemoval),
      Effect.catchAll((error) =>
        Effect.succeed({ outcome: "failed", error: error.message } satisfies OrphanRemoval),
      ),
    );
  });
