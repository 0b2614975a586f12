/**
 * One undici keep-alive Pool per instance address, created on its first
 * request and closed once no route lists the address any more (requests
 * still queued on it finish first), or when frontline stops.
 */
import { type Dispatcher, Pool } from "undici";
import type { RouteTable, Upstream } from "./route-table.ts";

export interface PoolSettings {
  /** Response headers must arrive within this; body chunks at most this far apart. */
  readonly upstreamTimeoutMs: number;
  readonly connectTimeoutMs: number;
}

export class Pools {
  private readonly pools = new Map<string, Pool>();
  private readonly unsubscribe: () => void;
  private readonly settings: PoolSettings;

  constructor(table: RouteTable, settings: PoolSettings) {
    this.settings = settings;
    this.unsubscribe = table.subscribe({
      upstreamReleased: (upstream) => {
        const pool = this.pools.get(upstream.address);
        if (pool === undefined) return;
        this.pools.delete(upstream.address);
        pool.close().catch(() => {});
      },
    });
  }

  get size(): number {
    return this.pools.size;
  }

  /** Sends one request to `upstream` through its pool. */
  dispatch(
    upstream: Upstream,
    options: Dispatcher.DispatchOptions,
    handler: Dispatcher.DispatchHandler,
  ): void {
    const pool = this.pools.get(upstream.address);
    if (pool !== undefined) {
      pool.dispatch(options, handler);
      return;
    }
    if (upstream.refs > 0) {
      const created = this.create(upstream);
      this.pools.set(upstream.address, created);
      created.dispatch(options, handler);
      return;
    }
    // The route this request started on left the table meanwhile (a retry after a route
    // change): no pool may be kept for an address no route lists, so a one-off pool serves the
    // request and closes behind it.
    const once = this.create(upstream);
    once.dispatch(options, handler);
    once.close().catch(() => {});
  }

  private create(upstream: Upstream): Pool {
    return new Pool(upstream.target.origin, {
      connectTimeout: this.settings.connectTimeoutMs,
      headersTimeout: this.settings.upstreamTimeoutMs,
      bodyTimeout: this.settings.upstreamTimeoutMs,
      // Instance addresses are IP literals (or names resolved once): no happy-eyeballs machinery
      // per connection.
      autoSelectFamily: false,
      // No TCP keep-alive probes: idle pooled connections are closed by undici after a few
      // seconds anyway, and each probe setting is a syscall on every new connection (instances
      // such as busybox httpd close after every response, so that is every request).
      connect: { keepAlive: false },
    });
  }

  /** Closes every pool: `force` aborts what still runs, else it finishes first. */
  async closeAll(force: boolean): Promise<void> {
    this.unsubscribe();
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((pool) => (force ? pool.destroy() : pool.close()).catch(() => {})));
  }
}
