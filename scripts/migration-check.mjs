// npm run migration:check — fails when the entities and the migrations disagree, i.e. when
// `migration:generate` would write a non-empty migration. Also runs every migration down and up again.
import { pendingSchemaChanges, withMigratedScratchDatabase } from './migration-db.mjs';

const problems = await withMigratedScratchDatabase(async (dataSource) => {
  const { upQueries } = await pendingSchemaChanges(dataSource);
  for (let i = 0; i < dataSource.migrations.length; i++) await dataSource.undoLastMigration({ transaction: 'each' });
  await dataSource.runMigrations({ transaction: 'each' });
  return upQueries.map((q) => q.query);
});
if (problems.length > 0) {
  console.error('Entities and migrations disagree; run `npm run migration:generate -- Name`. Pending SQL:');
  for (const sql of problems) console.error(`  ${sql}`);
  process.exit(1);
}
console.log('Entities and migrations agree; every migration reverts and re-applies.');
