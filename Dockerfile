# syntax=docker/dockerfile:1
# CloudMart backend image.
#   docker build -t cloudmart/backend:dev \
#     --build-arg SERVICE_VERSION=$(node -p "require('./package.json').version") \
#     --build-arg GIT_COMMIT_SHA=$(git rev-parse HEAD) \
#     --build-arg GIT_COMMIT_TIME=$(git show -s --format=%cI HEAD) .
# Compose builds it for you (compose/app.yaml).

ARG NODE_IMAGE=node:26.12.1-bookworm-slim

# ---- build: all dependencies, compile TypeScript to dist/ -------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig*.json ./
COPY src ./src
RUN npm run build

# ---- deps: production dependencies only --------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# ---- runtime -----------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# Empty = the service falls back to package.json's version / no commit.
ARG SERVICE_VERSION=""
ARG GIT_COMMIT_SHA=""
ARG GIT_COMMIT_TIME=""
# glibc returns freed blocks of 32 kB and more to the system: the tunable that
# src/tuning/relaunch.ts adds under npm start by executing node again, set here so that the
# container's process starts with it (relaunch.ts then leaves it alone: one exec, not two).
ENV NODE_ENV=production \
    GLIBC_TUNABLES=glibc.malloc.mmap_threshold=32768 \
    PORT=3000 \
    SERVICE_VERSION=${SERVICE_VERSION} \
    GIT_COMMIT_SHA=${GIT_COMMIT_SHA} \
    GIT_COMMIT_TIME=${GIT_COMMIT_TIME}
LABEL org.opencontainers.image.title="cloudmart-backend" \
      org.opencontainers.image.version="${SERVICE_VERSION}" \
      org.opencontainers.image.revision="${GIT_COMMIT_SHA}" \
      org.opencontainers.image.created="${GIT_COMMIT_TIME}"
WORKDIR /app
# Code stays owned by root (read-only for the app user); only logs/ is writable.
COPY package.json package-lock.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY migrations ./migrations
RUN mkdir -p /app/logs && chown node:node /app/logs
USER node
EXPOSE 3000

# No curl/wget in the slim image: probe /health with node's built-in fetch, on the port the
# service listens on (the check runs with the container's environment, so a PORT given at
# run time counts; exec form has no shell to expand it, node reads it).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

# Signals: exec-form CMD, so node itself is PID 1 (no /bin/sh in between that
# would swallow SIGTERM). As PID 1 the kernel applies no default signal action,
# so SIGTERM works because the service installs its own SIGTERM/SIGINT handlers
# (graceful HTTP close, span flush). Node spawns no children, so no zombies to
# reap; compose/app.yaml still sets `init: true` (Docker's tini) as a belt and
# braces for `docker run` users who add --init. The telemetry register module is
# loaded with --require before any instrumented module (pg, ioredis, express).
# The heap flags are npm start's (a test keeps them equal): Node sizes V8's young generation
# from the container's memory limit, far smaller than on the host the benchmark ran on, so
# they are pinned for the container to run what was measured (docs/benchmark.md, "Heap
# flags on Node.js 26" and "Findings from the Node 20 measurements").
# --no-allocation-site-pretenuring: spans wait in the batch processor about as long as the
# gap between scavenges, so V8 decides their allocation sites hold long-lived objects and
# allocates them straight into the old generation, where only mark-compacts free them
# (docs/benchmark.md, "Findings from the Node 20 measurements").
STOPSIGNAL SIGTERM
CMD ["node", "--max-old-space-size=256", "--max-semi-space-size=8", "--no-allocation-site-pretenuring", "--require", "./dist/tuning/relaunch.js", "--require", "./dist/telemetry/register.js", "dist/server.js"]
