import { createTestDatabase } from '@snapdeck/testing';
import type pg from 'pg';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';
import { createDataSource } from './database.js';

describe('a pooled connection that breaks while no one listens', () => {
  it('does not throw out of the process (the gap between the pool handing it out and TypeORM listening)', async () => {
    const database = await createTestDatabase();
    const dataSource = createDataSource({ url: database.url });
    await dataSource.initialize();
    try {
      const pool = (dataSource.driver as PostgresDriver).master as pg.Pool;
      // Checked out by hand: the pool's idle listener is off, and no query runner has attached its own.
      const client = await pool.connect();
      let thrown: unknown;
      try {
        client.emit('error', new Error('terminating connection due to unexpected postmaster exit'));
      } catch (error) {
        thrown = error;
      } finally {
        client.release(true);
      }
      expect(thrown).toBeUndefined();
      // The pool still works: the broken connection was dropped, a new one answers.
      expect(await dataSource.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    } finally {
      await dataSource.destroy();
      await database.drop();
    }
  });
});
