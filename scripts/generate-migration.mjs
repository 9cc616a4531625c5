// Usage: npm run migration:generate -- PascalName
// Writes migrations/<timestamp>-<PascalName>.ts with the SQL that brings the landed migrations up to the
// entities, then lists it in migrations/index.ts. Landed migrations are never edited.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pendingSchemaChanges, withMigratedScratchDatabase } from './migration-db.mjs';

const name = process.argv[2];
if (!name || !/^[A-Z][A-Za-z0-9]*$/.test(name)) {
  console.error('usage: npm run migration:generate -- PascalName');
  process.exit(2);
}
const { upQueries, downQueries } = await withMigratedScratchDatabase(pendingSchemaChanges);
if (upQueries.length === 0) {
  console.log('Entities and migrations agree: nothing to generate.');
  process.exit(0);
}
const timestamp = Date.now();
const className = `${name}${timestamp}`;
const quote = (q) =>
  `    await queryRunner.query(${JSON.stringify(q.query)}${q.parameters?.length ? `, ${JSON.stringify(q.parameters)}` : ''});`;
const source = `import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ${className} implements MigrationInterface {
  name = '${className}';

  async up(queryRunner: QueryRunner): Promise<void> {
${upQueries.map(quote).join('\n')}
  }

  async down(queryRunner: QueryRunner): Promise<void> {
${[...downQueries].reverse().map(quote).join('\n')}
  }
}
`;
const dir = join(import.meta.dirname, '..', 'migrations');
const file = `${timestamp}-${name}`;
writeFileSync(join(dir, `${file}.ts`), source);
const indexPath = join(dir, 'index.ts');
const index = readFileSync(indexPath, 'utf8')
  .replace(
    '// new migration imports above',
    `import { ${className} } from './${file}.js';\n// new migration imports above`,
  )
  .replace('  // new migrations above', `  ${className},\n  // new migrations above`);
writeFileSync(indexPath, index);
console.log(`Wrote migrations/${file}.ts (${upQueries.length} statements)`);
