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
# V8 grows old space lazily to 200+ MB under load although ~45 MB is live; a 96 MB cap keeps each
# relay process near 130-150 MB RSS with no measured throughput loss (docs/performance.md).
ENV NODE_OPTIONS=--max-old-space-size=96
WORKDIR /app
COPY --from=build --chown=node:node /app /app
USER node
EXPOSE 8080
STOPSIGNAL SIGTERM
CMD ["node", "services/relay/dist/main.js"]
