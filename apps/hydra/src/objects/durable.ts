/**
 * How hydra's handlers run side effects on Restate (facts checked against
 * @restatedev/restate-sdk 1.17.2, see the README):
 *
 * - Every DB or engine call runs in a NAMED `ctx.run` with a bounded retry
 *   policy: an ordinary Error is retried by the SDK (initial interval, factor,
 *   cap); after `maxRetryAttempts` attempts `ctx.run` throws a TerminalError
 *   carrying the last error's message, which the handler turns into a
 *   FAILED deployment. A TerminalError thrown by the closure is never retried.
 * - Each attempt has its own deadline far below Restate's inactivity timeout
 *   (1 min), so no `ctx.run` can outlive it and be re-executed on every retry.
 * - When the invocation is cancelled, the `await` of a pending `ctx.run`
 *   rejects with CancelledError at once while its closure keeps running in
 *   the background. `InFlight` tracks those closures so that compensation can
 *   wait for them before it looks for what to undo.
 */
import {
  CROCKFORD_ALPHABET,
  encodeUlidTime,
  ID_PREFIXES,
  type IdKind,
  type Ids,
} from "@ferry/domain";
import { type Context, type RunOptions, TerminalError } from "@restatedev/restate-sdk";
import { Cause, Data, Duration, Effect, Exit, Option } from "effect";
import type { HydraRuntime, HydraServices } from "../services.ts";

/** A failure no retry can fix; it ends the step with a TerminalError carrying `message`. */
export class Permanent extends Data.TaggedError("Permanent")<{ readonly message: string }> {}

export interface StepPolicy {
  /** Attempts in all, the first included. */
  readonly maxRetryAttempts: number;
  readonly initialRetryIntervalMs: number;
  readonly maxRetryIntervalMs: number;
  /** Deadline of one attempt. */
  readonly attemptTimeoutMs: number;
}

/**
 * Retry policies. Worst cases stay in minutes, never unbounded: a step that
 * keeps failing ends the deploy, releasing the project's key.
 */
export const POLICIES = {
  /** Database reads and writes: about 20 s of retries. */
  db: {
    maxRetryAttempts: 7,
    initialRetryIntervalMs: 250,
    maxRetryIntervalMs: 5_000,
    attemptTimeoutMs: 20_000,
  },
  /**
   * Downloading a build context (up to FERRY_UPLOAD_MAX_BYTES): each attempt aborts its own
   * download after DOWNLOAD_ATTEMPT_MS (40 s, deploy/build.ts); three attempts, about 2 min in
   * all, then the deployment fails with the last attempt's message (the archive's size).
   */
  download: {
    maxRetryAttempts: 3,
    initialRetryIntervalMs: 1_000,
    maxRetryIntervalMs: 5_000,
    attemptTimeoutMs: 50_000,
  },
  /** Checking a downloaded build context (streamed through gunzip and a tar reader, on disk). */
  buildContext: {
    maxRetryAttempts: 5,
    initialRetryIntervalMs: 1_000,
    maxRetryIntervalMs: 10_000,
    attemptTimeoutMs: 50_000,
  },
  /** Creating and starting a container (an image check, create, start, inspect). */
  engine: {
    maxRetryAttempts: 5,
    initialRetryIntervalMs: 500,
    maxRetryIntervalMs: 5_000,
    attemptTimeoutMs: 40_000,
  },
  /** One health-check round: probes are answered (or time out) in a few seconds. */
  probe: {
    maxRetryAttempts: 4,
    initialRetryIntervalMs: 250,
    maxRetryIntervalMs: 2_000,
    attemptTimeoutMs: 15_000,
  },
  /** Undoing: more patient, since giving up leaves something behind (the reconciler catches it later). */
  compensation: {
    maxRetryAttempts: 10,
    initialRetryIntervalMs: 500,
    maxRetryIntervalMs: 10_000,
    attemptTimeoutMs: 40_000,
  },
  /** After traffic switched to the deployment: recording READY must not give up quickly. */
  afterSwitch: {
    maxRetryAttempts: 30,
    initialRetryIntervalMs: 500,
    maxRetryIntervalMs: 10_000,
    attemptTimeoutMs: 20_000,
  },
} as const satisfies Record<string, StepPolicy>;

const runOptions = (policy: StepPolicy): RunOptions<unknown> => ({
  maxRetryAttempts: policy.maxRetryAttempts,
  initialRetryInterval: policy.initialRetryIntervalMs,
  maxRetryInterval: policy.maxRetryIntervalMs,
  retryIntervalFactor: 2,
});

const isTagged = (error: unknown, tag: string): error is Record<string, unknown> =>
  typeof error === "object" && error !== null && (error as { _tag?: unknown })._tag === tag;

/**
 * What a closure throws for a failed Effect: TerminalError (do not retry) for
 * Permanent failures, non-retryable engine errors and secrets that cannot be
 * opened; a plain Error (retry) for everything else, defects included.
 */
export const toRunError = (name: string, cause: Cause.Cause<unknown>): Error => {
  const failure = Cause.failureOption(cause);
  if (Option.isSome(failure)) {
    const error = failure.value;
    if (error instanceof Permanent) return new TerminalError(error.message);
    if (isTagged(error, "ContainerRuntimeError"))
      return error.retryable === true
        ? new Error(String(error.reason))
        : new TerminalError(String(error.reason));
    if (isTagged(error, "SecretBoxError")) return new TerminalError(String(error.reason));
    if (isTagged(error, "TimeoutException")) return new Error(`${name}: no answer in time`);
    if (error instanceof Error) return new Error(error.message);
    return new Error(`${name} failed: ${JSON.stringify(error)}`);
  }
  const defect = Cause.dieOption(cause);
  if (Option.isSome(defect))
    return defect.value instanceof Error
      ? new Error(`${name}: ${defect.value.message}`)
      : new Error(`${name}: ${String(defect.value)}`);
  return new Error(`${name} was interrupted`);
};

/** Tracks closures still running for a key (a deployment id), so compensation can wait for them. */
export class InFlight {
  readonly #work = new Map<string, Set<Promise<unknown>>>();

  track<A>(key: string, promise: Promise<A>): Promise<A> {
    let set = this.#work.get(key);
    if (set === undefined) {
      set = new Set();
      this.#work.set(key, set);
    }
    const entry = promise.then(
      () => undefined,
      () => undefined,
    );
    set.add(entry);
    void entry.then(() => {
      set.delete(entry);
      if (set.size === 0 && this.#work.get(key) === set) this.#work.delete(key);
    });
    return promise;
  }

  /** Resolves true once nothing runs for `key`, false after `timeoutMs`. */
  async settle(key: string, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const set = this.#work.get(key);
      if (set === undefined || set.size === 0) return true;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(set),
        new Promise((resolve) => {
          timer = setTimeout(resolve, left);
        }),
      ]);
      clearTimeout(timer);
    }
  }
}

export interface Durable {
  /**
   * Runs `effect` in `ctx.run(name)` with `policy`; its (JSON) result is
   * journaled, so a replay returns it without running the effect again.
   */
  readonly run: <A>(
    name: string,
    effect: Effect.Effect<A, unknown, HydraServices>,
    policy: StepPolicy,
  ) => Promise<A>;
}

export const makeDurable = (
  ctx: Context,
  runtime: HydraRuntime,
  inFlight: InFlight,
  /** Closures are tracked under this key (undefined: not tracked). */
  trackKey: string | undefined,
): Durable => ({
  run: (name, effect, policy) =>
    ctx.run(
      name,
      () => {
        const attempt = runtime
          .runPromiseExit(effect.pipe(Effect.timeout(Duration.millis(policy.attemptTimeoutMs))))
          .then((exit) => {
            if (Exit.isSuccess(exit)) return exit.value;
            throw toRunError(name, exit.cause);
          });
        return trackKey === undefined ? attempt : inFlight.track(trackKey, attempt);
      },
      runOptions(policy) as RunOptions<never>,
    ),
});

/**
 * The domain's Ids, driven by the Restate context: the time part is `now`
 * (a journaled `ctx.date.now()`), the random part comes from `ctx.rand`
 * (seeded by the invocation id). A replay makes exactly the same ids.
 * Call only from handler code, never inside `ctx.run`.
 */
export const restateIds = (ctx: Context, now: number): Ids["Type"] => ({
  next: <K extends IdKind>(kind: K) =>
    Effect.sync(() => {
      let random = "";
      for (let i = 0; i < 16; i++)
        random += CROCKFORD_ALPHABET.charAt(Math.floor(ctx.rand.random() * 32) % 32);
      return `${ID_PREFIXES[kind]}_${encodeUlidTime(now)}${random}` as never;
    }),
});
