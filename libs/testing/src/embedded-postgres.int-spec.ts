import { access } from 'node:fs/promises';
import pg from 'pg';
import { startEmbeddedPostgres } from '../postgres-server.mjs';

/** The fallback of global setup when no PostgreSQL answers: it must start on any machine that runs the tests. */
describe('embedded PostgreSQL', () => {
  it('starts a private server on a free port, answers SELECT 1, and deletes its data when stopped', async () => {
    const server = await startEmbeddedPostgres();
    try {
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      try {
        const { rows } = await client.query<{ one: number }>('SELECT 1 AS one');
        expect(rows).toEqual([{ one: 1 }]);
      } finally {
        await client.end();
      }
    } finally {
      await server.stop();
    }
    await expect(access(server.dataDir)).rejects.toThrow();
  });
});
