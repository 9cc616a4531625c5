#!/usr/bin/env bash
# Regenerates package-lock.json so that `npm ci` accepts it on a fresh clone, then proves it in one.
#
# Why: npm writes a lock without the other platforms' optional packages (@msgpackr-extract/*,
# @unrs/resolver-binding-*, …) when it installs over an existing node_modules (npm/cli#4828); `npm ci` on a fresh
# clone then refuses the lock ("Missing: … from lock file"). From an EMPTY node_modules, `npm install` keeps every
# version the lock already pins and adds every platform's optional package.
#
# When: after merging branches that change dependencies (resolve package.json by hand; for package-lock.json take
# either side — this script completes it), or whenever `node scripts/check-lock.mjs` complains.
#
# Usage: bash scripts/regenerate-lock.sh [--no-verify]
#   Steps: 1. remove every node_modules (root, libs/*, migrations, apps/*);
#          2. npm install (writes package-lock.json; installs node_modules again);
#          3. node scripts/check-lock.mjs (every optional package of every platform is locked);
#          4. unless --no-verify: clone HEAD into a temporary folder, copy package.json and package-lock.json
#             from here over it, run `npm ci` there (as .ci/run does), remove the folder.
#   Then commit package.json and package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."
verify=1
[ "${1:-}" = "--no-verify" ] && verify=0

echo "regenerate-lock: removing node_modules"
rm -rf node_modules libs/*/node_modules migrations/node_modules apps/*/node_modules

echo "regenerate-lock: npm install from an empty node_modules"
npm install --no-audit --no-fund

node scripts/check-lock.mjs

if [ "$verify" -eq 1 ]; then
  scratch="$(mktemp -d /tmp/snapdeck-lock-check.XXXXXX)"
  trap 'rm -rf "$scratch"' EXIT
  echo "regenerate-lock: npm ci in a fresh clone ($scratch)"
  git clone -q . "$scratch/repo"
  cp package.json package-lock.json "$scratch/repo/"
  for workspace in libs/*/package.json migrations/package.json; do
    mkdir -p "$scratch/repo/$(dirname "$workspace")" && cp "$workspace" "$scratch/repo/$workspace"
  done
  (cd "$scratch/repo" && npm ci --no-audit --no-fund)
  echo "regenerate-lock: npm ci accepted the lock"
fi

if git diff --quiet -- package-lock.json; then
  echo "regenerate-lock: package-lock.json unchanged"
else
  echo "regenerate-lock: package-lock.json changed: commit it with package.json"
fi
