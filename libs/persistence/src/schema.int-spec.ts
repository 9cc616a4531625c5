import { openTestDatabase } from '@snapdeck/testing';

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
});
