/**
 * Request metrics, per routed hostname, in Prometheus' text format.
 *
 * The hot path only adds to numbers in a RouteStats object (measured: about
 * 25 ns a request, against about 750 ns for prom-client's labelled
 * `Counter.inc` + `Histogram.observe`, which hash their label sets on every
 * call). prom-client still does the rest: the registry, the text format,
 * process metrics, and aggregation across node:cluster workers; the series
 * below are read from the RouteStats objects at scrape time.
 *
 * Cardinality: a hostname's series exist while the hostname is in the route
 * table; when it leaves, its stats are dropped (requests still in flight for
 * it finish into the dropped object and are not exported). Requests for
 * unknown hostnames are counted without a host label: the Host header is
 * the client's to choose.
 */
import { collectDefaultMetrics, type Metric, Registry } from "prom-client";
import type { ErrorReason } from "./error-pages.ts";
import type { RouteTable } from "./route-table.ts";

/** Upper bounds (seconds) of the latency histogram's buckets. */
export const LATENCY_BUCKETS: ReadonlyArray<number> = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];
const CLASSES = ["1xx", "2xx", "3xx", "4xx", "5xx"] as const;
const ERROR_REASONS: ReadonlyArray<ErrorReason> = [
  "bad_host",
  "unknown_host",
  "starting",
  "shutting_down",
  "no_upstream",
  "upstream_unreachable",
  "upstream_error",
  "upstream_timeout",
];
const REASON_INDEX = Object.fromEntries(ERROR_REASONS.map((r, i) => [r, i])) as Record<
  ErrorReason,
  number
>;

const bump = (counts: Float64Array, index: number) => {
  counts[index] = (counts[index] as number) + 1;
};

/** One hostname's counters. */
export class RouteStats {
  readonly byClass = new Float64Array(CLASSES.length);
  readonly errors = new Float64Array(ERROR_REASONS.length);
  /** Per bucket, not cumulative; the last slot is above the largest bound. */
  readonly buckets = new Float64Array(LATENCY_BUCKETS.length + 1);
  sum = 0;
  count = 0;
}

export interface MetricsOptions {
  /** Default: a new Registry. */
  readonly registry?: Registry;
  /** Add Node's process metrics (CPU, memory, event loop lag). Default true. */
  readonly processMetrics?: boolean;
}

type Value = {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
};

export class Metrics {
  readonly registry: Registry;
  /** Requests sent to a second upstream after the first refused the connection. */
  retries = 0;
  private readonly routes = new Map<string, RouteStats>();
  /** Errors of requests that matched no route. */
  private readonly unrouted = new Float64Array(ERROR_REASONS.length);
  private readonly unsubscribe: () => void;
  private readonly table: RouteTable;

  constructor(table: RouteTable, options: MetricsOptions = {}) {
    this.table = table;
    this.registry = options.registry ?? new Registry();
    this.unsubscribe = table.subscribe({ hostRemoved: (host) => this.routes.delete(host) });
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.expose();
  }

  /** The stats object of a routed hostname (kept by the request until it ends). */
  route(hostname: string): RouteStats {
    let stats = this.routes.get(hostname);
    if (stats === undefined) {
      stats = new RouteStats();
      this.routes.set(hostname, stats);
    }
    return stats;
  }

  /** A routed request ended with `status` after `seconds`. */
  request(stats: RouteStats, status: number, seconds: number): void {
    const cls = (status / 100) | 0;
    bump(stats.byClass, cls >= 1 && cls <= 5 ? cls - 1 : 4);
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > (LATENCY_BUCKETS[i] as number)) i++;
    bump(stats.buckets, i);
    stats.sum += seconds;
    stats.count++;
  }

  /** frontline answered an error itself; `stats` undefined: the request matched no route. */
  error(stats: RouteStats | undefined, reason: ErrorReason): void {
    bump(stats === undefined ? this.unrouted : stats.errors, REASON_INDEX[reason]);
  }

  /** The exposition text. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  close(): void {
    this.unsubscribe();
  }

  private expose(): void {
    const add = (
      name: string,
      help: string,
      type: "counter" | "gauge" | "histogram",
      aggregator: "sum" | "max" | "min",
      values: () => Value[],
    ) => {
      const metric = {
        name,
        help,
        type,
        aggregator,
        get: async () => ({ name, help, type, aggregator, values: values() }),
        reset: () => {},
      };
      // prom-client's registry needs only name, help, type, aggregator, get() and reset() of a
      // metric (lib/registry.js); its typings name the four built-in classes.
      this.registry.registerMetric(metric as unknown as Metric);
    };

    add(
      "frontline_requests_total",
      "Requests routed to a deployment, by hostname and status class (499: the client left first).",
      "counter",
      "sum",
      () => {
        const values: Value[] = [];
        for (const [host, stats] of this.routes)
          for (let i = 0; i < CLASSES.length; i++)
            if ((stats.byClass[i] as number) > 0)
              values.push({
                value: stats.byClass[i] as number,
                labels: { host, class: CLASSES[i] as string },
              });
        return values;
      },
    );

    add(
      "frontline_errors_total",
      "Responses frontline made itself, by reason (bad_host 400, unknown_host 404, starting/shutting_down/no_upstream 503, upstream_unreachable/upstream_error 502, upstream_timeout 504); no host label when no route matched.",
      "counter",
      "sum",
      () => {
        const values: Value[] = [];
        for (let i = 0; i < ERROR_REASONS.length; i++)
          if ((this.unrouted[i] as number) > 0)
            values.push({
              value: this.unrouted[i] as number,
              labels: { reason: ERROR_REASONS[i] as string },
            });
        for (const [host, stats] of this.routes)
          for (let i = 0; i < ERROR_REASONS.length; i++)
            if ((stats.errors[i] as number) > 0)
              values.push({
                value: stats.errors[i] as number,
                labels: { host, reason: ERROR_REASONS[i] as string },
              });
        return values;
      },
    );

    add(
      "frontline_request_duration_seconds",
      "Time from a routed request's arrival to the end of its response, by hostname.",
      "histogram",
      "sum",
      () => {
        const values: Value[] = [];
        const bucket = "frontline_request_duration_seconds_bucket";
        for (const [host, stats] of this.routes) {
          let cumulative = 0;
          for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
            cumulative += stats.buckets[i] as number;
            values.push({
              value: cumulative,
              labels: { host, le: LATENCY_BUCKETS[i] as number },
              metricName: bucket,
            });
          }
          values.push({ value: stats.count, labels: { host, le: "+Inf" }, metricName: bucket });
          values.push({
            value: stats.sum,
            labels: { host },
            metricName: "frontline_request_duration_seconds_sum",
          });
          values.push({
            value: stats.count,
            labels: { host },
            metricName: "frontline_request_duration_seconds_count",
          });
        }
        return values;
      },
    );

    add(
      "frontline_upstream_retries_total",
      "Requests sent to a second instance because the first refused the connection.",
      "counter",
      "sum",
      () => [{ value: this.retries, labels: {} }],
    );
    add("frontline_routes", "Hostnames in the route table.", "gauge", "max", () => [
      { value: this.table.size, labels: {} },
    ]);
    add(
      "frontline_route_table_ready",
      "1 once the route table has received its first snapshot.",
      "gauge",
      "min",
      () => [{ value: this.table.ready ? 1 : 0, labels: {} }],
    );
    add(
      "frontline_upstreams_unhealthy",
      "Instance addresses skipped after a failed connection.",
      "gauge",
      "max",
      () => [{ value: this.table.unhealthyCount(), labels: {} }],
    );
  }
}
