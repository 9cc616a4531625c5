#!/usr/bin/env node
// Helper of schema-diff.sh: node scripts/schema-changes.mjs <previous.graphql> <current.graphql> <scratch dir>
// 1. Writes both schemas without descriptions to <scratch>/{previous,current}.bare.graphql for graphql-inspector:
//    version 7 misses a field's type change when the field also gained a description.
// 2. Prints graphql-js's own findBreakingChanges / findDangerousChanges as a cross-check: graphql-inspector 7
//    also misses field changes of a type that gained an interface (Event.type String! -> EventType! went unseen).
import { buildSchema, findBreakingChanges, findDangerousChanges, parse, print, visit } from 'graphql';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [previousFile, currentFile, scratch] = process.argv.slice(2);
const bare = (file) =>
  print(
    visit(parse(readFileSync(file, 'utf8')), {
      enter: (node) => (node.description ? { ...node, description: undefined } : undefined),
    }),
  );
writeFileSync(join(scratch, 'previous.bare.graphql'), bare(previousFile));
writeFileSync(join(scratch, 'current.bare.graphql'), bare(currentFile));

const previous = buildSchema(readFileSync(previousFile, 'utf8'));
const current = buildSchema(readFileSync(currentFile, 'utf8'));
const breaking = findBreakingChanges(previous, current);
const dangerous = findDangerousChanges(previous, current);
console.log(`graphql-js: ${breaking.length} breaking, ${dangerous.length} dangerous change(s)`);
for (const change of breaking) console.log(`  BREAKING  ${change.type}: ${change.description}`);
for (const change of dangerous) console.log(`  dangerous ${change.type}: ${change.description}`);
process.exitCode = breaking.length > 0 ? 1 : 0;
