-- The event log becomes per deployment, with a commit-ordered cursor: events are keyed
-- (deployment_id, seq), and seq comes from the new counter deployments.event_seq, incremented
-- with UPDATE ... RETURNING in the transaction that writes the event (the row lock serializes the
-- writers of one deployment, so seq order is commit order; a global bigserial is assigned
-- before commit and lets a reader skip a seq that commits later). Project-level events are
-- dropped (nothing wrote them). log_lines / log_bytes track the deployment's log budget.
--
-- Nothing wrote the old table (its only writer was the unused EventLog.append): its rows, if
-- any, cannot become per-deployment events and are removed.
DELETE FROM "events";

-- CreateEnum
CREATE TYPE "event_type" AS ENUM ('STATUS', 'STEP', 'LOG');

-- DropForeignKey
ALTER TABLE "events" DROP CONSTRAINT "events_project_id_fkey";

-- DropForeignKey
ALTER TABLE "events" DROP CONSTRAINT "events_workspace_id_fkey";

-- DropIndex
DROP INDEX "events_deployment_id_seq_idx";

-- DropIndex
DROP INDEX "events_id_key";

-- DropIndex
DROP INDEX "events_project_id_seq_idx";

-- DropIndex
DROP INDEX "events_workspace_id_seq_idx";

-- AlterTable
ALTER TABLE "deployments" ADD COLUMN     "event_seq" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "log_bytes" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "log_lines" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "events" DROP CONSTRAINT "events_pkey",
DROP COLUMN "id",
DROP COLUMN "project_id",
DROP COLUMN "workspace_id",
ADD COLUMN     "log_bytes" INTEGER NOT NULL DEFAULT 0,
ALTER COLUMN "seq" DROP DEFAULT,
ALTER COLUMN "deployment_id" SET NOT NULL,
DROP COLUMN "type",
ADD COLUMN     "type" "event_type" NOT NULL,
ALTER COLUMN "created_at" DROP DEFAULT,
ADD CONSTRAINT "events_pkey" PRIMARY KEY ("deployment_id", "seq");
DROP SEQUENCE "events_seq_seq";

-- Every committed event notifies channel `ferry_events` with its deployment id, so that
-- WatchDeployment streams wake up (ctrl listens; see packages/db/src/notifications). PostgreSQL
-- delivers notifications at commit and folds identical ones within a transaction: a batch of
-- log lines is one notification. (Prisma's schema model has no triggers; its diff ignores them.)
CREATE FUNCTION "ferry_notify_event"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('ferry_events', NEW."deployment_id");
  RETURN NEW;
END;
$$;

CREATE TRIGGER "events_notify"
AFTER INSERT ON "events"
FOR EACH ROW EXECUTE FUNCTION "ferry_notify_event"();
