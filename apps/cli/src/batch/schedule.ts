/**
 * Runs items with bounded concurrency, one lane at a time per lane key, in list order within a
 * lane: a batch runs at most `concurrency` operations at once, and never two of the same
 * project together (a project's deploy then promote must not race). Items of other lanes go
 * ahead while a lane is busy. A failing item does not stop the others: `run` is expected to
 * turn its failures into results, and anything it throws becomes `onError`'s result.
 */

export interface ScheduleOptions<T, R> {
  /** At least 1. */
  readonly concurrency: number;
  /** Items with the same lane run one after the other, in list order. */
  readonly laneOf: (item: T) => string;
  readonly run: (item: T) => Promise<R>;
  /** The result of an item whose run threw. */
  readonly onError: (item: T, error: unknown) => R;
  /** When aborted, items not started yet are not started; they get `onNotStarted`'s result. */
  readonly signal?: AbortSignal;
  readonly onNotStarted?: (item: T) => R;
}

/** The results, in the items' order. */
export const schedule = <T, R>(
  items: ReadonlyArray<T>,
  options: ScheduleOptions<T, R>,
): Promise<Array<R>> => {
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1)
    throw new RangeError(
      `concurrency must be a whole number of at least 1, not ${options.concurrency}`,
    );
  const results = new Array<R>(items.length);
  const pending = items.map((_, index) => index);
  const busyLanes = new Set<string>();
  let running = 0;

  return new Promise((resolve) => {
    const pump = () => {
      if (options.signal?.aborted === true && options.onNotStarted !== undefined) {
        const notStarted = options.onNotStarted;
        for (const index of pending.splice(0)) results[index] = notStarted(items[index] as T);
      }
      // In list order, start every item whose lane is free, up to the bound. A busy lane's
      // later items are passed over, so a lane keeps its order.
      for (let k = 0; k < pending.length && running < options.concurrency; ) {
        const index = pending[k] as number;
        const item = items[index] as T;
        const lane = options.laneOf(item);
        if (busyLanes.has(lane)) {
          k++;
          continue;
        }
        pending.splice(k, 1);
        busyLanes.add(lane);
        running++;
        Promise.resolve()
          .then(() => options.run(item))
          .catch((error: unknown) => options.onError(item, error))
          .then((result) => {
            results[index] = result;
            busyLanes.delete(lane);
            running--;
            pump();
          });
      }
      if (running === 0 && pending.length === 0) resolve(results);
    };
    pump();
  });
};
