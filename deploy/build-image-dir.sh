#!/bin/sh
# Writes the directory the container image holds at /app: the built server with every adapter, and only
# their production dependencies (`pnpm deploy --prod`). The Dockerfile's build stage and
# scripts/container.test.ts both run this script, so the test starts exactly what the image would.
#
# Usage, from an installed workspace (pnpm install --frozen-lockfile): deploy/build-image-dir.sh <target directory>
# The target must not exist yet, or be empty.
set -eu

target=${1:?usage: deploy/build-image-dir.sh <target directory (new or empty)>}
cd "$(dirname "$0")/.."

# The server and the workspace packages it depends on (core, the adapters, the stores), compiled to dist/.
pnpm turbo run build --filter=@dcr-bridge/server...

# pnpm 10 deploys workspace dependencies only when they are injected; the setting is passed here rather than
# kept in pnpm-workspace.yaml, where it would change how every workspace package is linked in development.
# The deploy lockfile is derived from the workspace's pnpm-lock.yaml: the image gets the tested versions.
pnpm --filter @dcr-bridge/server deploy --prod --config.inject-workspace-packages=true "$target"
