#!/usr/bin/env node
// Writes schema.graphql (the api's GraphQL schema, sorted) from the built api, without a database.
// `npm run build` runs it after tsc; a unit test fails while the committed file differs from what this writes.
import { writeFile } from 'node:fs/promises';
import { printApiSchema, SCHEMA_FILE } from '../apps/api/dist/graphql/schema-file.js';

const target = new URL(`../${SCHEMA_FILE}`, import.meta.url);
await writeFile(target, await printApiSchema());
console.log(`wrote ${SCHEMA_FILE}`);
