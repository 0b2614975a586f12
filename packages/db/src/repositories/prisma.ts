/**
 * The Prisma client as an Effect service, and the few helpers every
 * repository uses to run queries: failures of the database are defects
 * (they surface as Internal and are retried by the workflow engine); only
 * the outcomes a port names (a unique key taken) become typed errors.
 */
import { Context, Effect, Option } from "effect";
import { Prisma, type PrismaClient } from "../generated/prisma/client.ts";

export class Db extends Context.Tag("@ferry/db/Db")<Db, PrismaClient>() {}

/** The client or an interactive transaction's client. */
export type DbClient = PrismaClient | Prisma.TransactionClient;

/**
 * Interactive transactions wait longer than Prisma's defaults (2 s to start,
 * 5 s to finish): on the embedded PGlite every connection shares one session,
 * so a transaction queues behind any other client's (measured: seconds under
 * load on 2 cores). They stay short; these bounds only absorb the queueing.
 */
export const INTERACTIVE_TRANSACTION = { maxWait: 15_000, timeout: 30_000 } as const;

/** Runs a query; a rejected promise is a defect. */
export const query = <A>(run: () => Promise<A>): Effect.Effect<A> => Effect.promise(run);

/** True when `error` is a unique-constraint violation (Prisma P2002). */
export const isUniqueViolation = (error: unknown): boolean =>
  error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002";

/** Runs a query whose unique-constraint violation means `onTaken()`; other failures are defects. */
export const queryUnique = <A, E>(run: () => Promise<A>, onTaken: () => E): Effect.Effect<A, E> =>
  Effect.tryPromise({ try: run, catch: (error) => error }).pipe(
    Effect.catchAll((error) =>
      isUniqueViolation(error) ? Effect.fail(onTaken()) : Effect.die(error),
    ),
  );

/** A row that may be missing, mapped to the domain: `findUnique` → Option. */
export const optionalRow =
  <Row, A>(map: (row: Row) => A) =>
  (row: Row | null): Option.Option<A> =>
    row === null ? Option.none() : Option.some(map(row));

export const toDate = (millis: number): Date => new Date(millis);
export const toMillis = (date: Date): number => date.getTime();
export const optionalMillis = (date: Date | null): number | undefined =>
  date === null ? undefined : date.getTime();
/** `null` columns become absent optional fields (exactOptionalPropertyTypes). */
export const present = <K extends string, V>(key: K, value: V | null | undefined) =>
  (value === null || value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
