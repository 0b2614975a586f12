/**
 * The adapters hydra's handlers run domain code with, composed once into a
 * ManagedRuntime at start: the Prisma repositories, the container runtime,
 * the SecretBox and the platform settings.
 *
 * Time and randomness: code run through this runtime executes inside a
 * named `ctx.run`, whose result is journaled, so it may read the clock and
 * draw random ids (the default `Ids` layer); a replay returns the journaled
 * result instead of running it again. Ids the handlers make outside
 * `ctx.run` come from `restateIds` (objects/durable.ts), driven by the
 * Restate context.
 */
import { randomBytes } from "node:crypto";
import { localBuildStorage, s3BuildStorage } from "@ferry/build-storage";
import { layer as containerRuntimeLayer } from "@ferry/containers";
import { Db, type PrismaClient, RepositoriesLive } from "@ferry/db";
import {
  type ContainerRuntimeError,
  Ids,
  Platform,
  SecretBox,
  SecretBoxError,
} from "@ferry/domain";
import { layer as secretBoxLayer } from "@ferry/secret-box";
import { Effect, Layer, type ManagedRuntime } from "effect";
import type { HydraBuildStorageConfig } from "./config.ts";

export interface ServicesOptions {
  readonly prisma: PrismaClient;
  readonly containerEngineUrl: string;
  readonly containerStopTimeoutSeconds: number;
  readonly secretKeys: string | undefined;
  readonly apexDomain: string;
  readonly regions: ReadonlyArray<string>;
  /** Where build contexts are read (hydra only reads: it never hands out upload URLs). */
  readonly buildStorage: HydraBuildStorageConfig;
}

/**
 * hydra reads build contexts only. The local adapter also signs upload URLs, which hydra never
 * hands out: it gets a throwaway secret and a base URL that goes nowhere.
 */
const buildStorageLayer = (config: HydraBuildStorageConfig) =>
  config.kind === "s3"
    ? s3BuildStorage(config)
    : localBuildStorage({
        root: config.dir,
        publicBaseUrl: "http://hydra.invalid",
        signingSecret: randomBytes(32),
      });

/** Without a key ring, no secret can be opened: a deployment with secrets fails with this message. */
const NoSecretBox = Layer.succeed(SecretBox, {
  seal: () => Effect.die(new Error("hydra never seals secrets")),
  open: (sealed) =>
    Effect.fail(
      new SecretBoxError({
        reason: `no secret keys are configured in hydra (FERRY_SECRET_KEYS), so a secret sealed with key "${sealed.keyId}" cannot be opened`,
      }),
    ),
});

export const servicesLayer = (options: ServicesOptions) =>
  Layer.mergeAll(
    RepositoriesLive.pipe(
      Layer.provide(Layer.succeed(Db, options.prisma)),
      Layer.provide(Ids.layer),
    ),
    Ids.layer,
    containerRuntimeLayer({
      url: options.containerEngineUrl,
      stopTimeoutSeconds: options.containerStopTimeoutSeconds,
    }),
    options.secretKeys === undefined ? NoSecretBox : secretBoxLayer(options.secretKeys),
    Layer.succeed(Platform, {
      apexDomain: options.apexDomain,
      availableRegions: options.regions,
    }),
    buildStorageLayer(options.buildStorage),
  );

/** Every service the handlers' Effect programs may use. */
export type HydraServices = Layer.Layer.Success<ReturnType<typeof servicesLayer>>;

export type HydraRuntime = ManagedRuntime.ManagedRuntime<HydraServices, ContainerRuntimeError>;
