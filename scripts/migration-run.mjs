// npm run migration:run — applies pending migrations to DATABASE_URL; with --revert, undoes the last one.
import { createDataSource } from '@snapdeck/persistence';
import { MIGRATIONS } from '@snapdeck/migrations';
import { loadApiConfig } from '@snapdeck/config';

const config = loadApiConfig(process.env);
const dataSource = createDataSource({ url: config.DATABASE_URL, migrations: MIGRATIONS });
await dataSource.initialize();
try {
  if (process.argv.includes('--revert')) {
    await dataSource.undoLastMigration({ transaction: 'each' });
    console.log('Reverted the last migration.');
  } else {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    console.log(applied.length ? `Applied: ${applied.map((m) => m.name).join(', ')}` : 'No pending migrations.');
  }
} finally {
  await dataSource.destroy();
}
