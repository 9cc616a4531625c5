#!/usr/bin/env bash
# Reports how schema.graphql changed against the previous commit's (or against the ref given), with
# @graphql-inspector/cli (descriptions aside) and graphql-js findBreakingChanges: breaking, dangerous, safe. A report, never a failure: an issue may change
# the schema on purpose; the reader decides. .ci/run prints it as its own section.
#   bash scripts/schema-diff.sh [ref]     (default HEAD~1; `npm run schema:diff -- <ref>`)
set -uo pipefail
cd "$(dirname "$0")/.."
ref="${1:-HEAD~1}"
echo "=== GraphQL schema changes: schema.graphql at ${ref} -> this commit (graphql-inspector diff; report only) ==="
if ! git cat-file -e "${ref}:schema.graphql" 2>/dev/null; then
  echo "schema-diff: ${ref} has no schema.graphql: nothing to compare"
  echo "=== end of schema changes ==="
  exit 0
fi
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
git show "${ref}:schema.graphql" >"$scratch/previous.graphql"
if cmp -s "$scratch/previous.graphql" schema.graphql; then
  echo "schema-diff: no change"
else
  # graphql-inspector on the schemas without descriptions, then graphql-js's own check (schema-changes.mjs says why).
  node scripts/schema-changes.mjs "$scratch/previous.graphql" schema.graphql "$scratch"
  js_status=$?
  npx --no-install graphql-inspector diff "$scratch/previous.bare.graphql" "$scratch/current.bare.graphql"
  status=$(( $? | js_status ))
  if [ "$status" -ne 0 ]; then
    echo "schema-diff: BREAKING changes above; CI goes on (a report, not a verdict): say why in the commit"
  fi
fi
echo "=== end of schema changes ==="
exit 0
