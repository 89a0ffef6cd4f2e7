# One image for every role (RELAY_ROLES picks) and for the CBOT simulator.
FROM node:24-bookworm-slim AS build
WORKDIR /app
RUN npm i -g pnpm@10.34.8
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml .npmrc tsconfig.base.json tsconfig.build.json ./
COPY packages ./packages
COPY services ./services
COPY examples ./examples
RUN pnpm install --frozen-lockfile
RUN pnpm build
# Keep only production dependencies for the runtime stage.
RUN rm -rf node_modules packages/*/node_modules services/*/node_modules examples/*/node_modules \
  && pnpm install --frozen-lockfile --prod --ignore-scripts

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production
# JSON logs even under `docker run -t` (a TTY would otherwise get pino-pretty's lines); LOG_FORMAT=pretty overrides.
ENV LOG_FORMAT=json
# V8 grows the heap lazily to 200+ MB under load although ~45 MB is live. A 96 MB old space and
# 8 MB semi-spaces keep a dispatcher with 512 sends in flight at 116-123 MB RSS (docs/performance.md).
ENV NODE_OPTIONS="--max-old-space-size=96 --max-semi-space-size=8"
WORKDIR /app
COPY --from=build --chown=node:node /app /app
USER node
# 8080: the ingress (PORT); 9464: /healthz, /readyz, /metrics of any role (OPS_PORT), for the private network only
EXPOSE 8080 9464
STOPSIGNAL SIGTERM
CMD ["node", "services/relay/dist/main.js"]
