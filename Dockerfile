# dcr-bridge server image. Build from the repository root: docker build -t dcr-bridge .
# apps/server/README.md ("Container image and Kubernetes") says what it holds and how to run it. Without a Docker
# engine, deploy/build-oci-image.sh builds the same image from Debian packages (README: "Building the image without Docker").

# Build stage: the whole workspace, installed from the lockfile, then deploy/build-image-dir.sh writes /image:
# @dcr-bridge/server-all (the server, every adapter, both stores), built, with their production dependencies,
# nothing else. The server takes the adapters as optional peers; the image holds them all, so it serves any
# DCR_BRIDGE_ADAPTER.
FROM node:24-bookworm-slim AS build
ENV CI=true TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
# The same pnpm as package.json's packageManager (scripts/container.test.ts checks that they agree).
RUN npm install --global pnpm@10.34.8
WORKDIR /workspace
# Dependencies first, so that a change of source alone reuses this layer.
COPY pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./
RUN pnpm fetch
COPY . .
RUN pnpm install --frozen-lockfile --offline
# /rootfs/data becomes /data in the image: copied as an item of /rootfs, it takes the --chown below.
RUN sh deploy/build-image-dir.sh /image && mkdir -p /rootfs/data

# Runtime stage: Node.js and glibc, no shell and no package manager; runs as the unprivileged user 65532.
FROM gcr.io/distroless/nodejs24-debian12:nonroot
WORKDIR /app
# Owned by root and not writable by the server's user: the image works with a read-only root file system.
COPY --from=build --chown=0:0 /image /app
# The only place the server writes: the create journal (every adapter) and the SQLite store (rfc7591).
COPY --from=build --chown=65532:65532 /rootfs /
ENV NODE_ENV=production \
    NODE_OPTIONS=--max-semi-space-size=2 \
    PORT=3000 \
    DCR_BRIDGE_JOURNAL=/data/dcr-bridge.journal \
    DCR_BRIDGE_STORE=/data/dcr-bridge.sqlite
USER 65532:65532
EXPOSE 3000
VOLUME ["/data"]
# Node itself is PID 1 and receives SIGTERM: the server drains, then exits 0 (apps/server/README.md, "Shutdown").
ENTRYPOINT ["/nodejs/bin/node"]
CMD ["/app/node_modules/@dcr-bridge/server/dist/bin.js"]
