-- Retention (docs/decisions/0017-retention.md): when a deployment's build artifacts were removed
-- (null: not removed), set once by a compare-and-set so that a repeated sweep skips it; and an
-- index to find the other deployments that use the same stored build context.

-- AlterTable
ALTER TABLE "deployments" ADD COLUMN     "artifacts_removed_at" TIMESTAMPTZ(3);

-- CreateIndex
CREATE INDEX "deployments_build_context_path_idx" ON "deployments"("build_context_path");
