/** What retention reads and writes: the facts its rule decides on, and the mark of a removal. */
import { Context, type Effect, type Option } from "effect";
import type { DeploymentId } from "../ids.ts";
import type { RetentionFacts } from "../rules/retention.ts";

export interface RetentionCandidateQuery {
  /**
   * Only deployments no longer needed since before this time (epoch ms): see unneededSince in
   * rules/retention.ts.
   */
  readonly unneededBefore: number;
  /** Only ids strictly above this one (a sweep's cursor); "" from the start. */
  readonly afterId: string;
  readonly limit: number;
}

export class RetentionRepository extends Context.Tag("@ferry/domain/RetentionRepository")<
  RetentionRepository,
  {
    /**
     * The deployments decideRetention would remove at `unneededBefore` with no period left, by
     * id ascending: built from a context, artifacts not removed yet, terminal and not among the
     * KEEP_READY_PER_ENVIRONMENT newest READY of its environment, not live, no traffic route,
     * no active instance, unneeded since before `unneededBefore`. Every exclusion is in the
     * query, so what the rule keeps is not listed again at every sweep; the rule still has the
     * last word (facts change between the listing and the removal).
     */
    readonly listCandidates: (
      query: RetentionCandidateQuery,
    ) => Effect.Effect<ReadonlyArray<RetentionFacts>>;
    /** One deployment's facts, read now (re-checked right before its artifacts go). */
    readonly findFacts: (id: DeploymentId) => Effect.Effect<Option.Option<RetentionFacts>>;
    /**
     * Deployments other than `exceptId` that use the stored build context `key` and still keep
     * their artifacts: while there is one, the stored context stays.
     */
    readonly countContextHolders: (key: string, exceptId: DeploymentId) => Effect.Effect<number>;
    /**
     * Of `keys` (one page of stored build contexts), those that some deployment references
     * (`build_context_path`, whatever its status): they are not orphans.
     */
    readonly referencedContextKeys: (
      keys: ReadonlyArray<string>,
    ) => Effect.Effect<ReadonlyArray<string>>;
    /** Compare-and-set: true when this call marked the artifacts removed, false if already marked. */
    readonly markArtifactsRemoved: (id: DeploymentId, at: number) => Effect.Effect<boolean>;
  }
>() {}
