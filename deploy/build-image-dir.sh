#!/bin/sh
# Writes the directory the container image holds at /app: @dcr-bridge/server-all (the server with every adapter
# and both stores), built, with only their production dependencies (`pnpm deploy --prod`). The server itself
# takes the adapters as optional peers (install what you use); the image keeps them all, so one image serves
# any DCR_BRIDGE_ADAPTER. The server's command is /app/node_modules/@dcr-bridge/server/dist/bin.js.
# The Dockerfile's build stage and scripts/container.test.ts both run this script, so the test starts exactly
# what the image would.
#
# Usage, from an installed workspace (pnpm install --frozen-lockfile): deploy/build-image-dir.sh <target directory>
# The target must not exist yet, or be empty.
set -eu

target=${1:?usage: deploy/build-image-dir.sh <target directory (new or empty)>}
cd "$(dirname "$0")/.."

# The all-in-one package and the workspace packages it depends on (the server, core, the adapters, the stores),
# compiled to dist/.
pnpm turbo run build --filter=@dcr-bridge/server-all...

# pnpm 10 deploys workspace dependencies only when they are injected; the setting is passed here rather than
# kept in pnpm-workspace.yaml, where it would change how every workspace package is linked in development.
# The deploy lockfile is derived from the workspace's pnpm-lock.yaml: the image gets the tested versions.
# The deploy does not link the server's optional peers into its own folder of node_modules/.pnpm: the server
# finds the adapters where Node looks next, /app/node_modules/@dcr-bridge (scripts/container.test.ts proves it).
pnpm --filter @dcr-bridge/server-all deploy --prod --config.inject-workspace-packages=true "$target"

# What the image cannot use and would only tie it to the machine that built it: the .bin folders' shims are
# shell scripts holding this build's absolute paths (the image has no shell, and runs the server's bin with
# node), and .modules.yaml and .pnpm-workspace-state-v1.json are pnpm's record of this install (its store's
# path, time stamps). Without them, the same sources in the same checkout give the same /app, byte for byte
# (deploy/build-oci-image.sh).
find "$target/node_modules" -type d -name .bin -prune -exec rm -rf {} +
rm -f "$target/node_modules/.modules.yaml" "$target/node_modules/.pnpm-workspace-state-v1.json"
