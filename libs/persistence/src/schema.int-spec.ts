import { MIGRATIONS } from '@snapdeck/migrations';
import { createDataSource } from './database.js';
import { createTestDatabase, openTestDatabase } from '@snapdeck/testing';

describe('entities and migrations', () => {
  it('agree: migration:generate would produce nothing on a migrated database', async () => {
    const { db, close } = await openTestDatabase();
    try {
      const { upQueries } = await db.dataSource.driver.createSchemaBuilder().log();
      expect(upQueries.map((q) => q.query)).toEqual([]);
    } finally {
      await close();
    }
  });

  it('revert all the way down and apply again', async () => {
    const database = await createTestDatabase();
    const dataSource = createDataSource({ url: database.url, migrations: MIGRATIONS });
    await dataSource.initialize();
    try {
      for (let i = 0; i < MIGRATIONS.length; i++) await dataSource.undoLastMigration({ transaction: 'each' });
      const tables = await dataSource.query(
        `SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'migrations'`,
      );
      expect(tables[0].n).toBe(0);
      expect(await dataSource.runMigrations({ transaction: 'each' })).toHaveLength(MIGRATIONS.length);
    } finally {
      await dataSource.destroy();
      await database.drop();
    }
  });
});
