/**
 * An in-memory RetentionRepository over a fixed list of facts (the in-memory store has no
 * instances to derive them from): tests give each deployment's facts and watch the marks.
 */
import { Effect, Layer, Option, Ref } from "effect";
import type { DeploymentId } from "../ids.ts";
import { RetentionRepository } from "../ports/retention.ts";
import { decideRetention, type RetentionFacts } from "../rules/retention.ts";

export const makeInMemoryRetentionRepository = (facts: ReadonlyArray<RetentionFacts>) =>
  Layer.effect(
    RetentionRepository,
    Effect.map(
      Ref.make<ReadonlyMap<string, RetentionFacts>>(new Map(facts.map((f) => [f.id, f]))),
      (store) =>
        RetentionRepository.of({
          listCandidates: (query) =>
            Effect.map(Ref.get(store), (all) =>
              [...all.values()]
                // What the SQL selects: removable at `unneededBefore` with no period left.
                .filter(
                  (f) =>
                    f.id > query.afterId &&
                    decideRetention(f, { now: query.unneededBefore, periodMs: 0 })._tag ===
                      "Remove",
                )
                .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
                .slice(0, query.limit),
            ),
          findFacts: (id: DeploymentId) =>
            Effect.map(Ref.get(store), (all) => Option.fromNullable(all.get(id))),
          countContextHolders: (key, exceptId) =>
            Effect.map(
              Ref.get(store),
              (all) =>
                [...all.values()].filter(
                  (f) =>
                    f.id !== exceptId &&
                    f.buildContextPath === key &&
                    f.artifactsRemovedAt === undefined,
                ).length,
            ),
          referencedContextKeys: (keys) =>
            Effect.map(Ref.get(store), (all) => {
              const used = new Set([...all.values()].map((f) => f.buildContextPath));
              return keys.filter((key) => used.has(key));
            }),
          markArtifactsRemoved: (id, at) =>
            Ref.modify(store, (all) => {
              const found = all.get(id);
              if (found === undefined || found.artifactsRemovedAt !== undefined)
                return [false, all];
              return [true, new Map(all).set(id, { ...found, artifactsRemovedAt: at })];
            }),
        }),
    ),
  );
