// @ferry/db: Ferry's persistence. The Prisma client and its types, the
// connection to PostgreSQL or the embedded PGlite, and the migrations.
export {
  type DatabaseConfig,
  DEFAULT_DATA_DIR,
  databaseConfigFromEnv,
  describeDatabaseConfig,
  redactUrl,
} from "./config.ts";
export {
  type Database,
  type OpenDatabaseOptions,
  openDatabase,
  openEmbedded,
} from "./database.ts";
export {
  type FrontlineRouteEntry,
  type FrontlineRouteScope,
  type FrontlineUpstream,
  loadFrontlineRoutes,
} from "./frontline-routes.ts";
export * from "./generated/prisma/client.ts";
export { checksumOf, type MigrationFile, readMigrations } from "./migrations/files.ts";
export {
  MIGRATION_ADVISORY_LOCK_KEY,
  type MigrateOptions,
  type MigrateResult,
  MigrationError,
  type MigrationErrorCode,
  type MigrationTarget,
  migrate,
} from "./migrations/migrate.ts";
export {
  type DeploymentEventFeedOptions,
  EVENTS_CHANNEL,
  type NotifiedDeploymentEventFeed,
  startDeploymentEventFeed,
} from "./notifications/deployment-events.ts";
export type { NotificationHub } from "./notifications/embedded-hub.ts";
export {
  listenToNotifications,
  type NotificationHandlers,
  type NotificationListener,
} from "./notifications/listen.ts";
export type { Notification } from "./notifications/protocol-scanner.ts";
export { MIGRATIONS_DIR, SCHEMA_PATH } from "./paths.ts";
export {
  type EmbeddedPostgres,
  PGLITE_SOCKET_MAX_CONNECTIONS,
  type StartEmbeddedPostgresOptions,
  startEmbeddedPostgres,
} from "./pglite.ts";
export * from "./repositories/index.ts";
