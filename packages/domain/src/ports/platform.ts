/** Platform-wide settings the rules depend on; apps provide them from their configuration. */
import { Context } from "effect";

export class Platform extends Context.Tag("@ferry/domain/Platform")<
  Platform,
  {
    /** Generated hostnames live under this domain, e.g. `ferry.localhost`. */
    readonly apexDomain: string;
    /** Regions a deployment may run in; an empty request means all of them, in this order. */
    readonly availableRegions: ReadonlyArray<string>;
  }
>() {}
