/** Helpers of the adapter tests: run storage calls, read streams, list what is on disk. */
import { readdir } from "node:fs/promises";
import path from "node:path";
import { Effect, TestClock, TestContext } from "effect";

export const run = <A, E>(effect: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(effect);

/** The failure of `effect` (fails the test when it succeeds). */
export const failure = <A, E>(effect: Effect.Effect<A, E>): Promise<E> =>
  Effect.runPromise(Effect.flip(effect));

/** Runs `effect` with the clock at `millis`: URLs signed in the past, to test expiry. */
export const at = <A, E>(millis: number, effect: Effect.Effect<A, E>): Promise<A> =>
  Effect.runPromise(
    TestClock.setTime(millis).pipe(
      Effect.zipRight(effect),
      Effect.provide(TestContext.TestContext),
    ),
  );

export const bytes = (size: number, seed = 7): Uint8Array =>
  Uint8Array.from({ length: size }, (_, i) => (i * 31 + seed) % 256);

export async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Array<Uint8Array> = [];
  for await (const chunk of stream) chunks.push(chunk);
  return new Uint8Array(Buffer.concat(chunks));
}

/** Every file under `dir`, dot files (temporary uploads) included, relative and sorted. */
export async function filesUnder(dir: string): Promise<Array<string>> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort();
}
