# One image for every role (RELAY_ROLES picks), the bundled CBOT simulator and the `cbot-relay` CLI.
# Stages: pnpm → deps (the lockfile alone) → build (sources, compile, prune) → runtime (compiled
# JavaScript, package.json files and production dependencies, owned by root, run as `node`).
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS pnpm
# The packageManager pin; .npmrc turns pnpm's switching to other versions off.
RUN npm i -g pnpm@10.34.8 && npm cache clean --force
WORKDIR /app

# Every dependency, dev ones included, fetched from the lockfile alone: this layer is rebuilt when
# pnpm-lock.yaml or the pnpm settings change, not on a source change.
FROM pnpm AS deps
COPY pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./
RUN pnpm fetch

FROM deps AS build
COPY . .
RUN pnpm install --offline --frozen-lockfile
RUN pnpm build
# Production dependencies of the deployable projects, their compiled JavaScript and package.json
# files, into /runtime (test/deploy/image-tree.test.ts runs the same script and checks the tree).
RUN sh deploy/docker/runtime-tree.sh /app /runtime

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
# JSON logs even under `docker run -t` (a TTY would otherwise get pino-pretty's lines); LOG_FORMAT=pretty overrides.
ENV LOG_FORMAT=json
# V8 grows the heap lazily to 200+ MB under load although ~45 MB is live. A 96 MB old space and
# 8 MB semi-spaces keep a dispatcher with 512 sends in flight at 115-118 MB peak RSS (docs/performance.md).
ENV NODE_OPTIONS="--max-old-space-size=96 --max-semi-space-size=8"
WORKDIR /app
# No --chown: the code stays root's, and the node user can read it but not change it.
COPY --from=build /runtime /app
COPY deploy/docker/healthcheck.mjs /usr/local/lib/cbot-relay/healthcheck.mjs
COPY deploy/docker/cbot-relay /usr/local/bin/cbot-relay
USER node
# 8080: the ingress (PORT); 9464: /healthz, /readyz, /metrics of any role (OPS_PORT), for the private network only
EXPOSE 8080 9464
# /readyz on OPS_PORT: Redis reachable and this process's roles running.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "/usr/local/lib/cbot-relay/healthcheck.mjs"]
STOPSIGNAL SIGTERM
CMD ["node", "services/relay/dist/main.js"]
