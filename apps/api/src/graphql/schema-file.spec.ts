import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { printApiSchema, SCHEMA_FILE, SCHEMA_REFRESH_COMMAND } from './schema-file.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../../..');
const committedPath = join(ROOT, SCHEMA_FILE);

describe(`${SCHEMA_FILE}: the committed schema is the api's`, () => {
  it('equals the schema the code builds (else: refresh it)', async () => {
    const built = await printApiSchema();
    const committed = readFileSync(committedPath, 'utf8');
    if (committed !== built) {
      const a = committed.split('\n');
      const b = built.split('\n');
      const line = a.findIndex((text, i) => text !== b[i]);
      throw new Error(
        `${SCHEMA_FILE} is stale: run \`${SCHEMA_REFRESH_COMMAND}\` and commit ${SCHEMA_FILE}.\n` +
          `First difference at line ${line + 1}:\n  committed: ${a[line]}\n  built:     ${b[line]}`,
      );
    }
    expect(committed).toContain('type Query {');
  });

  it('passes graphql-schema-linter with its default rules (every type, field, argument and enum value described)', () => {
    let output: string;
    try {
      output = execFileSync(join(ROOT, 'node_modules/.bin/graphql-schema-linter'), ['-f', 'compact', committedPath], {
        encoding: 'utf8',
      });
    } catch (error) {
      const failure = error as { stdout?: string; stderr?: string };
      throw new Error(`graphql-schema-linter found problems:\n${failure.stdout ?? ''}${failure.stderr ?? ''}`);
    }
    expect(output.trim()).toBe('');
  });
});
