/** What retention reads and writes: the facts its rule decides on, and the mark of a removal. */
import { Context, type Effect, type Option } from "effect";
import type { DeploymentId } from "../ids.ts";
import type { RetentionFacts } from "../rules/retention.ts";

export interface RetentionCandidateQuery {
  /** Only deployments that reached their status before this time (epoch ms). */
  readonly finishedBefore: number;
  /** Only ids strictly above this one (a sweep's cursor); "" from the start. */
  readonly afterId: string;
  readonly limit: number;
}

export class RetentionRepository extends Context.Tag("@ferry/domain/RetentionRepository")<
  RetentionRepository,
  {
    /**
     * Terminal deployments built from a build context, whose artifacts are not removed yet and
     * which finished before `finishedBefore`, by id ascending: the candidates the rule
     * (decideRetention) then decides on. A superset: the rule has the last word.
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
    /** Compare-and-set: true when this call marked the artifacts removed, false if already marked. */
    readonly markArtifactsRemoved: (id: DeploymentId, at: number) => Effect.Effect<boolean>;
  }
>() {}
