/**
 * One page of retention candidates, decided: the query selects what the rule would remove (so
 * kept deployments are not listed at every sweep), decideRetention has the last word.
 * Runs inside one `ctx.run`; its result is journaled (plain JSON).
 */
import { type DeploymentId, decideRetention, RetentionRepository } from "@ferry/domain";
import { Effect } from "effect";

export interface CandidatePage {
  /** Decided "Remove", in id order. */
  readonly remove: ReadonlyArray<DeploymentId>;
  readonly kept: ReadonlyArray<{ readonly deploymentId: string; readonly reason: string }>;
  /** Where the next sweep continues: the last id looked at, or "" when this was the last page. */
  readonly nextCursor: string;
}

export const findCandidates = (input: {
  readonly now: number;
  readonly periodMs: number;
  readonly cursor: string;
  readonly limit: number;
}) =>
  Effect.gen(function* () {
    const page = yield* (yield* RetentionRepository).listCandidates({
      unneededBefore: input.now - input.periodMs,
      afterId: input.cursor,
      limit: input.limit,
    });
    const remove: DeploymentId[] = [];
    const kept: Array<CandidatePage["kept"][number]> = [];
    for (const facts of page) {
      const decision = decideRetention(facts, input);
      if (decision._tag === "Remove") remove.push(facts.id as DeploymentId);
      else kept.push({ deploymentId: facts.id, reason: decision.reason });
    }
    // A full page may have more behind it; a short one was the end: start over next time.
    const nextCursor = page.length < input.limit ? "" : (page.at(-1)?.id ?? "");
    return { remove, kept, nextCursor } satisfies CandidatePage;
  });
