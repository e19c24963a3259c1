# syntax=docker/dockerfile:1
#
# apk-indexer: the Renovate custom datasource for APK repositories (Wolfi, Alpine, melange).
#
#   docker build -t apk-indexer .
#   docker run --rm -p 3000:3000 apk-indexer                      # serves Wolfi, x86_64 + aarch64
#   docker run --rm apk-indexer query bash --index https://packages.wolfi.dev/os
#
# Base: node:26-slim. Node.js 26 is the Active LTS line (24 moved to maintenance in October 2026); -slim is
# Debian with glibc, the platform Node's release binaries are built and tested on, and the dependencies are pure
# JavaScript, so Alpine's musl would save a few megabytes and gain nothing. The smallest image is the Wolfi one
# built from packages by apko (apko.yaml, melange.yaml).

# --- build: all dependencies, TypeScript compiled into dist/ --------------------------------------------------
FROM node:26-slim AS build
WORKDIR /src
# Dependencies first, so this layer is reused until package-lock.json changes. Scripts are skipped here because
# `prepare` (the TypeScript build) needs the sources, which come next; `npm run build` is that same step.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY schemas ./schemas
COPY bench ./bench
COPY src ./src
RUN npm run build

# --- deps: production dependencies only, no install scripts (nothing to compile: all pure JavaScript) -----------
FROM node:26-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# --- runtime ------------------------------------------------------------------------------------------------------
FROM node:26-slim
LABEL org.opencontainers.image.title="apk-indexer" \
      org.opencontainers.image.description="Renovate custom datasource for APK repositories (Wolfi, Alpine, melange)" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production
WORKDIR /app
# git, for `apk-indexer images --changed-since` in CI (gen ci's GitLab job runs it in this image).
RUN apt-get update && apt-get install -y --no-install-recommends git && rm -rf /var/lib/apt/lists/*
# Owned by root and read-only to the service: it never writes to its own files (Kubernetes can mount / read-only).
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY config ./config
# The state directory (stateDir): the last verified indexes, served at once after a restart. A volume, so it
# outlives the container; mount your own there to keep it across re-creations (docs/deploy.md).
RUN mkdir -p /var/lib/apk-indexer && chown 1000:1000 /var/lib/apk-indexer
ENV APK_INDEXER_STATE_DIR=/var/lib/apk-indexer
VOLUME /var/lib/apk-indexer
# The image's `node` user, by number, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 1000:1000
EXPOSE 3000
# No curl in slim images: Node's own fetch. APK_INDEXER_PORT moves the port; so does the probe. With
# APK_INDEXER_MANAGEMENT_PORT set, the probe asks there, where client connections cannot crowd it out.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.APK_INDEXER_MANAGEMENT_PORT || process.env.APK_INDEXER_PORT || 3000) + '/livez').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form: node is PID 1 and receives SIGTERM itself (serve drains in-flight requests and exits 0).
# Arguments after the image name replace CMD: `docker run IMAGE serve --config /config/apk-indexer.yaml`.
ENTRYPOINT ["node", "bin/apk-indexer.js"]
CMD ["serve"]
