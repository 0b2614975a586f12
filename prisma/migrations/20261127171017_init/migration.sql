-- CreateEnum
CREATE TYPE "environment_kind" AS ENUM ('PRODUCTION', 'PREVIEW');

-- CreateEnum
CREATE TYPE "deployment_status" AS ENUM ('PENDING', 'BUILDING', 'DEPLOYING', 'NETWORK', 'READY', 'FAILED', 'CANCELLED', 'SUPERSEDED');

-- CreateEnum
CREATE TYPE "deployment_source_kind" AS ENUM ('DOCKER_IMAGE', 'BUILD_CONTEXT');

-- CreateEnum
CREATE TYPE "deployment_step_status" AS ENUM ('RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED');

-- CreateEnum
CREATE TYPE "instance_status" AS ENUM ('STARTING', 'RUNNING', 'STOPPED', 'FAILED');

-- CreateEnum
CREATE TYPE "route_kind" AS ENUM ('DEPLOYMENT', 'BRANCH', 'ENVIRONMENT', 'LIVE');

-- CreateTable
CREATE TABLE "workspaces" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "slug" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "workspaces_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_keys" (
    "id" TEXT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "projects" (
    "id" TEXT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "slug" TEXT NOT NULL,
    "container_port" INTEGER NOT NULL DEFAULT 8080,
    "health_check_path" TEXT NOT NULL DEFAULT '/',
    "health_check_timeout_seconds" INTEGER NOT NULL DEFAULT 300,
    "replicas_per_region" INTEGER NOT NULL DEFAULT 1,
    "live_deployment_id" TEXT,
    "rolled_back" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "projects_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "environments" (
    "id" TEXT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "project_id" TEXT NOT NULL,
    "slug" TEXT NOT NULL,
    "kind" "environment_kind" NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "environments_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "environment_variables" (
    "id" TEXT NOT NULL,
    "environment_id" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "secret" BOOLEAN NOT NULL,
    "value" TEXT,
    "ciphertext" TEXT,
    "key_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "environment_variables_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "deployments" (
    "id" TEXT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "project_id" TEXT NOT NULL,
    "environment_id" TEXT NOT NULL,
    "status" "deployment_status" NOT NULL DEFAULT 'PENDING',
    "source_kind" "deployment_source_kind" NOT NULL,
    "docker_image" TEXT,
    "build_context_path" TEXT,
    "dockerfile_path" TEXT,
    "image" TEXT,
    "git_commit_sha" TEXT,
    "git_branch" TEXT,
    "git_commit_message" TEXT,
    "git_author_handle" TEXT,
    "git_author_avatar_url" TEXT,
    "git_commit_timestamp" BIGINT,
    "regions" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "env_snapshot" JSONB NOT NULL,
    "restate_invocation_id" TEXT,
    "idempotency_key" TEXT,
    "error_message" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "deployments_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "deployment_steps" (
    "id" TEXT NOT NULL,
    "deployment_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "status" "deployment_step_status" NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "ended_at" TIMESTAMPTZ(3),
    "message" TEXT,

    CONSTRAINT "deployment_steps_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "instances" (
    "id" TEXT NOT NULL,
    "deployment_id" TEXT NOT NULL,
    "region" TEXT NOT NULL,
    "container_id" TEXT NOT NULL,
    "host" TEXT NOT NULL,
    "port" INTEGER,
    "status" "instance_status" NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "instances_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "frontline_routes" (
    "id" TEXT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "project_id" TEXT NOT NULL,
    "environment_id" TEXT NOT NULL,
    "deployment_id" TEXT NOT NULL,
    "hostname" TEXT NOT NULL,
    "kind" "route_kind" NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "frontline_routes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "events" (
    "seq" BIGSERIAL NOT NULL,
    "id" TEXT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "project_id" TEXT NOT NULL,
    "deployment_id" TEXT,
    "type" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "events_pkey" PRIMARY KEY ("seq")
);

-- CreateIndex
CREATE UNIQUE INDEX "workspaces_slug_key" ON "workspaces"("slug");

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_hash_key" ON "api_keys"("hash");

-- CreateIndex
CREATE INDEX "api_keys_workspace_id_idx" ON "api_keys"("workspace_id");

-- CreateIndex
CREATE UNIQUE INDEX "projects_live_deployment_id_key" ON "projects"("live_deployment_id");

-- CreateIndex
CREATE UNIQUE INDEX "projects_workspace_id_slug_key" ON "projects"("workspace_id", "slug");

-- CreateIndex
CREATE INDEX "environments_workspace_id_idx" ON "environments"("workspace_id");

-- CreateIndex
CREATE UNIQUE INDEX "environments_project_id_slug_key" ON "environments"("project_id", "slug");

-- CreateIndex
CREATE UNIQUE INDEX "environment_variables_environment_id_key_key" ON "environment_variables"("environment_id", "key");

-- CreateIndex
CREATE INDEX "deployments_project_id_created_at_idx" ON "deployments"("project_id", "created_at" DESC);

-- CreateIndex
CREATE INDEX "deployments_project_id_id_idx" ON "deployments"("project_id", "id" DESC);

-- CreateIndex
CREATE INDEX "deployments_project_id_environment_id_status_idx" ON "deployments"("project_id", "environment_id", "status");

-- CreateIndex
CREATE INDEX "deployments_project_id_environment_id_git_branch_status_idx" ON "deployments"("project_id", "environment_id", "git_branch", "status");

-- CreateIndex
CREATE INDEX "deployments_environment_id_idx" ON "deployments"("environment_id");

-- CreateIndex
CREATE UNIQUE INDEX "deployments_workspace_id_idempotency_key_key" ON "deployments"("workspace_id", "idempotency_key");

-- CreateIndex
CREATE UNIQUE INDEX "deployment_steps_deployment_id_name_key" ON "deployment_steps"("deployment_id", "name");

-- CreateIndex
CREATE UNIQUE INDEX "instances_container_id_key" ON "instances"("container_id");

-- CreateIndex
CREATE INDEX "instances_deployment_id_idx" ON "instances"("deployment_id");

-- CreateIndex
CREATE UNIQUE INDEX "frontline_routes_hostname_key" ON "frontline_routes"("hostname");

-- CreateIndex
CREATE INDEX "frontline_routes_deployment_id_idx" ON "frontline_routes"("deployment_id");

-- CreateIndex
CREATE INDEX "frontline_routes_project_id_kind_idx" ON "frontline_routes"("project_id", "kind");

-- CreateIndex
CREATE INDEX "frontline_routes_environment_id_idx" ON "frontline_routes"("environment_id");

-- CreateIndex
CREATE UNIQUE INDEX "events_id_key" ON "events"("id");

-- CreateIndex
CREATE INDEX "events_deployment_id_seq_idx" ON "events"("deployment_id", "seq");

-- CreateIndex
CREATE INDEX "events_project_id_seq_idx" ON "events"("project_id", "seq");

-- CreateIndex
CREATE INDEX "events_workspace_id_seq_idx" ON "events"("workspace_id", "seq");

-- AddForeignKey
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "projects" ADD CONSTRAINT "projects_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "projects" ADD CONSTRAINT "projects_live_deployment_id_fkey" FOREIGN KEY ("live_deployment_id") REFERENCES "deployments"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "environments" ADD CONSTRAINT "environments_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "environments" ADD CONSTRAINT "environments_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "environment_variables" ADD CONSTRAINT "environment_variables_environment_id_fkey" FOREIGN KEY ("environment_id") REFERENCES "environments"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_environment_id_fkey" FOREIGN KEY ("environment_id") REFERENCES "environments"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "deployment_steps" ADD CONSTRAINT "deployment_steps_deployment_id_fkey" FOREIGN KEY ("deployment_id") REFERENCES "deployments"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "instances" ADD CONSTRAINT "instances_deployment_id_fkey" FOREIGN KEY ("deployment_id") REFERENCES "deployments"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "frontline_routes" ADD CONSTRAINT "frontline_routes_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "frontline_routes" ADD CONSTRAINT "frontline_routes_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "frontline_routes" ADD CONSTRAINT "frontline_routes_environment_id_fkey" FOREIGN KEY ("environment_id") REFERENCES "environments"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "frontline_routes" ADD CONSTRAINT "frontline_routes_deployment_id_fkey" FOREIGN KEY ("deployment_id") REFERENCES "deployments"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "events" ADD CONSTRAINT "events_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "events" ADD CONSTRAINT "events_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "events" ADD CONSTRAINT "events_deployment_id_fkey" FOREIGN KEY ("deployment_id") REFERENCES "deployments"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Written by hand (Prisma's schema language has no CHECK constraints; the
-- schema engine ignores them when it compares a database with schema.prisma).

-- A plain variable keeps its value; a secret keeps only its sealed value and
-- the id of the key that sealed it.
ALTER TABLE "environment_variables" ADD CONSTRAINT "environment_variables_plain_or_sealed_check" CHECK (
    (NOT "secret" AND "value" IS NOT NULL AND "ciphertext" IS NULL AND "key_id" IS NULL)
    OR ("secret" AND "value" IS NULL AND "ciphertext" IS NOT NULL AND "key_id" IS NOT NULL)
);

-- A deployment has exactly the source that its kind names.
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_source_check" CHECK (
    ("source_kind" = 'DOCKER_IMAGE' AND "docker_image" IS NOT NULL AND "build_context_path" IS NULL)
    OR ("source_kind" = 'BUILD_CONTEXT' AND "build_context_path" IS NOT NULL AND "docker_image" IS NULL)
);
