-- appendLogs becomes idempotent for lines that carry their source offset (the byte offset of a
-- build log line in the build job's log file): the highest stored offset is kept per deployment,
-- read under the deployment's row lock and advanced in the transaction that inserts the lines.
-- Null: no line with an offset stored yet.

-- AlterTable
ALTER TABLE "deployments" ADD COLUMN     "log_offset" BIGINT;
