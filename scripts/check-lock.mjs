#!/usr/bin/env node
// Checks that package-lock.json holds every platform's optional packages: each optionalDependency of each locked
// package must itself be in the lock, wherever Node's resolution would look for it. npm can write a lock without
// the other platforms' packages (npm/cli#4828, an `npm install` over an existing node_modules); `npm ci` then
// refuses it on a fresh clone ("Missing: @msgpackr-extract/msgpackr-extract-darwin-arm64@3.0.7 from lock file").
// Plain Node, no dependencies: .ci/run calls it before `npm ci`. Fix with `bash scripts/regenerate-lock.sh`.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The optional dependencies that no entry of the lock provides, as "<package path> -> <dependency>". */
export function missingOptionalPackages(lock) {
  const packages = lock.packages ?? {};
  const missing = [];
  for (const [path, meta] of Object.entries(packages)) {
    for (const dependency of Object.keys(meta.optionalDependencies ?? {})) {
      if (!resolves(packages, path, dependency)) missing.push(`${path || '(root)'} -> ${dependency}`);
    }
  }
  return missing;
}

function resolves(packages, from, dependency) {
  let base = from;
  for (;;) {
    if (packages[`${base ? `${base}/` : ''}node_modules/${dependency}`]) return true;
    if (!base) return false;
    const parent = base.lastIndexOf('/node_modules/');
    // "node_modules/a/node_modules/b" looks in "node_modules/a" next; "node_modules/a" or a workspace
    // ("libs/domain") in the root.
    base = parent < 0 ? '' : base.slice(0, parent);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2] ?? new URL('../package-lock.json', import.meta.url);
  const missing = missingOptionalPackages(JSON.parse(readFileSync(file, 'utf8')));
  if (missing.length > 0) {
    console.error(`package-lock.json lacks ${missing.length} optional package(s), so \`npm ci\` refuses it:`);
    for (const line of missing) console.error(`  ${line}`);
    console.error('Regenerate it: bash scripts/regenerate-lock.sh (then commit package-lock.json)');
    process.exit(1);
  }
  console.log('package-lock.json: every optional package of every platform is locked');
}
