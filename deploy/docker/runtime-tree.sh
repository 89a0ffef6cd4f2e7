#!/bin/sh
# The image's runtime tree, from a workspace that `pnpm install` and `pnpm build` have run in:
# the production dependencies of every deployable project (services/*, examples/*) and of the
# workspace packages they depend on, their compiled JavaScript, Lua scripts and package.json files, nothing else
# (no TypeScript sources, tests, source maps or declarations; no packages/testing, which only
# devDependencies name, so no testcontainers, dockerode or ssh2). One pnpm virtual store serves
# every entry point (relay, simulator, CLI, example consumer); `pnpm deploy` would copy the
# dependencies once per deployed project.
# The Dockerfile runs it, and so does test/deploy/image-tree.test.ts (keep the two the same).
# usage: runtime-tree.sh <built workspace> <empty output directory>
set -eu
src=$(cd "$1" && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)
cd "$src"

# --filter-prod follows only `dependencies` between workspace projects (`--filter` would follow
# devDependencies too and bring packages/testing in); --prod skips each project's devDependencies.
set -- --filter-prod '{./services/*}...' --filter-prod '{./examples/*}...'
rm -rf node_modules packages/*/node_modules services/*/node_modules examples/*/node_modules
pnpm install --offline --frozen-lockfile --prod --ignore-scripts --config.confirm-modules-purge=false "$@"

cp package.json "$out/"
cp -a node_modules "$out/"
for dir in $(pnpm ls -r --depth -1 --parseable --prod "$@"); do
  rel=${dir#"$src"/}
  mkdir -p "$out/$rel"
  cp "$rel/package.json" "$out/$rel/"
  if [ -d "$rel/node_modules" ]; then cp -a "$rel/node_modules" "$out/$rel/"; fi
  # Compiled JavaScript only: the .map and .d.ts files describe sources the image does not hold.
  if [ -d "$rel/dist" ]; then
    (cd "$rel" && find dist -type f -name '*.js' -exec cp --parents -t "$out/$rel/" {} +)
  fi
  # Files a package reads at runtime beside dist/: Lua scripts (packages/records/lua), SQL migrations
  # (packages/history/migrations).
  for extra in lua migrations; do
    if [ -d "$rel/$extra" ]; then cp -a "$rel/$extra" "$out/$rel/"; fi
  done
done

# valibot (under the queue UI's bull-board) names typescript as an optional peer, and pnpm links the
# workspace's own typescript into it; nothing loads it at runtime (23 MB). Links left dangling go too.
rm -rf "$out"/node_modules/.pnpm/typescript@*
# Type declarations, TypeScript files, source maps and docs of dependencies: nothing reads them at
# runtime (~10 MB).
find "$out/node_modules" -type f \( -name '*.ts' -o -name '*.mts' -o -name '*.cts' -o -name '*.map' -o -name '*.md' \) -delete
find "$out" -xtype l -delete
# Read-only to everyone but the owner (root in the image).
chmod -R go-w "$out"
