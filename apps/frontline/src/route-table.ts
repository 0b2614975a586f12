/**
 * The in-memory route table: hostname → the deployment serving it and the
 * addresses of its instances. The route feed fills it (`replaceAll` with a
 * full snapshot at start and after a resync, then `upsert`/`remove` per
 * change); the proxy reads it on every request (`resolve`, `pick`).
 *
 * Upstream choice: round-robin over the route's instances, restricted to the
 * preferred region while any instance there is healthy, then to the other
 * regions' healthy instances, then (all marked down) to every instance:
 * trying an instance that failed a few seconds ago beats a certain 503.
 *
 * Passive health lives on the Upstream (one per address, shared by every
 * route that points at it, e.g. a deployment's own hostname and the live
 * hostname): a failed connection marks it down for `unhealthyMs`.
 */
import { type Address, isValidHostname, normalizeHost, parseAddress } from "./hostname.ts";

export interface RouteEntry {
  readonly hostname: string;
  readonly deploymentId: string;
  readonly projectId: string;
  readonly upstreams: ReadonlyArray<{
    /** `host:port` (`[v6]:port` for IPv6). */
    readonly address: string;
    readonly region: string;
  }>;
}

/** One instance address, shared by every route that lists it. */
export class Upstream {
  readonly address: string;
  readonly target: Address;
  region: string;
  /** Epoch ms until which the upstream is skipped; 0: healthy. */
  downUntil = 0;
  /** Routes that list it; at 0 it leaves the table (and its connection pool closes). */
  refs = 0;
  constructor(address: string, target: Address, region: string) {
    this.address = address;
    this.target = target;
    this.region = region;
  }
}

/** A routed hostname, as the proxy sees it. */
export interface Route {
  readonly hostname: string;
  readonly entry: RouteEntry;
  /** Every upstream, and the same split by region preference (`preferred` empty without one). */
  readonly all: ReadonlyArray<Upstream>;
  readonly preferred: ReadonlyArray<Upstream>;
  readonly others: ReadonlyArray<Upstream>;
  /** Round-robin position. */
  next: number;
}

export interface RouteTableListener {
  /** A hostname left the table (removed, or absent from a new snapshot). */
  readonly hostRemoved?: (hostname: string) => void;
  /** No route lists this address any more. */
  readonly upstreamReleased?: (upstream: Upstream) => void;
  /** An upstream was marked down after a failed connection (it was healthy before). */
  readonly upstreamDown?: (upstream: Upstream, hostname: string) => void;
}

export interface RouteTableOptions {
  /** Instances in this region are chosen while any of them is healthy. */
  readonly preferredRegion?: string | undefined;
  /** How long an upstream whose connection failed is skipped. Default 5000. */
  readonly unhealthyMs?: number;
  /** Epoch ms; tests move time. */
  readonly now?: () => number;
}

export class InvalidRouteError extends Error {
  override readonly name = "InvalidRouteError";
}

export interface ReplaceResult {
  readonly applied: number;
  /** Entries left out of the snapshot, and why; the rest is applied. */
  readonly rejected: ReadonlyArray<{ readonly hostname: string; readonly reason: string }>;
}

export class RouteTable {
  readonly preferredRegion: string | undefined;
  readonly unhealthyMs: number;
  private readonly now: () => number;
  private readonly routes = new Map<string, Route>();
  private readonly upstreams = new Map<string, Upstream>();
  private readonly listeners = new Set<RouteTableListener>();
  private _version = 0;
  private _ready = false;

  constructor(options: RouteTableOptions = {}) {
    this.preferredRegion = options.preferredRegion;
    this.unhealthyMs = options.unhealthyMs ?? 5_000;
    this.now = options.now ?? Date.now;
  }

  /** False until the first snapshot: requests get 503 "frontline is starting" until then. */
  get ready(): boolean {
    return this._ready;
  }

  /** Increases on every change. */
  get version(): number {
    return this._version;
  }

  get size(): number {
    return this.routes.size;
  }

  /** Replaces every route with a full snapshot; makes the table ready. Invalid entries are skipped and reported. */
  replaceAll(entries: Iterable<RouteEntry>): ReplaceResult {
    const next = new Map<string, Route>();
    const rejected: Array<{ hostname: string; reason: string }> = [];
    for (const entry of entries) {
      try {
        const hostname = checkEntry(entry);
        if (next.has(hostname)) {
          this.release(next.get(hostname) as Route);
          rejected.push({
            hostname,
            reason: "listed twice in the snapshot; the last entry is used",
          });
        }
        next.set(hostname, this.build(hostname, entry));
      } catch (error) {
        rejected.push({ hostname: String(entry?.hostname), reason: (error as Error).message });
      }
    }
    // New routes hold their upstreams before old ones let go: an address present in both keeps
    // its Upstream (health state, connection pool).
    const previous = [...this.routes.values()];
    this.routes.clear();
    for (const [hostname, route] of next) this.routes.set(hostname, route);
    for (const route of previous) {
      this.release(route);
      if (!this.routes.has(route.hostname)) this.emit("hostRemoved", route.hostname);
    }
    this._ready = true;
    this._version++;
    return { applied: next.size, rejected };
  }

  /** Adds or replaces the route of `entry.hostname`. Throws InvalidRouteError on a malformed entry. */
  upsert(entry: RouteEntry): void {
    const hostname = checkEntry(entry);
    const route = this.build(hostname, entry);
    const old = this.routes.get(hostname);
    this.routes.set(hostname, route);
    if (old !== undefined) this.release(old);
    this._version++;
  }

  /** Removes the route of `hostname` (any case, port or trailing dot); false when there was none. */
  remove(hostname: string): boolean {
    const key = normalizeHost(hostname);
    const route = this.routes.get(key);
    if (route === undefined) return false;
    this.routes.delete(key);
    this.release(route);
    this._version++;
    this.emit("hostRemoved", key);
    return true;
  }

  /** The entry serving `hostname` (a Host header value is fine: case, port and trailing dot are ignored). */
  lookup(hostname: string): RouteEntry | undefined {
    return this.routes.get(normalizeHost(hostname))?.entry;
  }

  entries(): IterableIterator<RouteEntry> {
    return Array.from(this.routes.values(), (route) => route.entry)[Symbol.iterator]();
  }

  /** The route of an already normalized hostname (the proxy's hot path). */
  resolve(normalizedHostname: string): Route | undefined {
    return this.routes.get(normalizedHostname);
  }

  /**
   * The upstream for the next request on `route`, never `exclude` (the one that just failed);
   * undefined when the route has no other upstream.
   */
  pick(route: Route, exclude?: Upstream): Upstream | undefined {
    const all = route.all;
    if (all.length === 0) return undefined;
    const start = route.next;
    route.next = (start + 1) % 1_000_000_007;
    const now = this.now();
    return (
      healthy(route.preferred, start, now, exclude) ??
      healthy(route.others, start, now, exclude) ??
      any(all, start, exclude)
    );
  }

  /** Passive health: skip `upstream` for `unhealthyMs` after a failed connection. */
  markDown(upstream: Upstream, hostname: string): void {
    const now = this.now();
    const wasUp = upstream.downUntil <= now;
    upstream.downUntil = now + this.unhealthyMs;
    if (wasUp) this.emit("upstreamDown", upstream, hostname);
  }

  /** Upstreams currently skipped. */
  unhealthyCount(): number {
    const now = this.now();
    let count = 0;
    for (const upstream of this.upstreams.values()) if (upstream.downUntil > now) count++;
    return count;
  }

  subscribe(listener: RouteTableListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private build(hostname: string, entry: RouteEntry): Route {
    const all: Upstream[] = [];
    const seen = new Set<string>();
    for (const { address, region } of entry.upstreams) {
      if (seen.has(address)) continue;
      seen.add(address);
      let upstream = this.upstreams.get(address);
      if (upstream === undefined) {
        // checkEntry validated every address.
        upstream = new Upstream(address, parseAddress(address) as Address, region);
        this.upstreams.set(address, upstream);
      }
      upstream.region = region;
      upstream.refs++;
      all.push(upstream);
    }
    const preferred =
      this.preferredRegion === undefined
        ? []
        : all.filter((u) => u.region === this.preferredRegion);
    const others = preferred.length === 0 ? all : all.filter((u) => !preferred.includes(u));
    return { hostname, entry, all, preferred, others, next: 0 };
  }

  private release(route: Route): void {
    for (const upstream of route.all) {
      if (--upstream.refs > 0) continue;
      this.upstreams.delete(upstream.address);
      this.emit("upstreamReleased", upstream);
    }
  }

  private emit<K extends keyof RouteTableListener>(
    event: K,
    ...args: Parameters<NonNullable<RouteTableListener[K]>>
  ): void {
    for (const listener of this.listeners) {
      const fn = listener[event] as ((...a: typeof args) => void) | undefined;
      fn?.(...args);
    }
  }
}

/**
 * The route of a normalized hostname, or why frontline must answer itself: not ready yet (no
 * snapshot), no such route (a valid hostname), or not a hostname at all.
 */
export function routeFor(
  table: RouteTable,
  hostname: string,
): Route | "starting" | "unknown_host" | "bad_host" {
  if (!table.ready) return "starting";
  const route = hostname === "" ? undefined : table.resolve(hostname);
  if (route !== undefined) return route;
  return hostname !== "" && isValidHostname(hostname) ? "unknown_host" : "bad_host";
}

/** The normalized hostname of a well-formed entry; throws InvalidRouteError otherwise. */
function checkEntry(entry: RouteEntry): string {
  if (typeof entry?.hostname !== "string") throw new InvalidRouteError("the entry has no hostname");
  const hostname = normalizeHost(entry.hostname);
  if (!isValidHostname(hostname))
    throw new InvalidRouteError(`"${entry.hostname}" is not a valid hostname`);
  if (typeof entry.deploymentId !== "string" || entry.deploymentId === "")
    throw new InvalidRouteError(`${hostname}: deploymentId is missing`);
  if (!Array.isArray(entry.upstreams))
    throw new InvalidRouteError(`${hostname}: upstreams must be a list`);
  for (const upstream of entry.upstreams)
    if (typeof upstream?.address !== "string" || parseAddress(upstream.address) === undefined)
      throw new InvalidRouteError(
        `${hostname}: upstream address "${String(upstream?.address)}" is not host:port`,
      );
  return hostname;
}

function healthy(
  list: ReadonlyArray<Upstream>,
  start: number,
  now: number,
  exclude: Upstream | undefined,
): Upstream | undefined {
  const n = list.length;
  for (let i = 0; i < n; i++) {
    const upstream = list[(start + i) % n] as Upstream;
    if (upstream.downUntil <= now && upstream !== exclude) return upstream;
  }
  return undefined;
}

function any(
  list: ReadonlyArray<Upstream>,
  start: number,
  exclude: Upstream | undefined,
): Upstream | undefined {
  const n = list.length;
  for (let i = 0; i < n; i++) {
    const upstream = list[(start + i) % n] as Upstream;
    if (upstream !== exclude) return upstream;
  }
  return undefined;
}
