import { createDataSource, Database } from '@snapdeck/persistence';
import pg from 'pg';
import { testServerUrl } from '../server-url.mjs';

export { testServerUrl };

export function databaseUrl(name: string): string {
  const url = new URL(testServerUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

export async function withAdminClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: testServerUrl() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

let counter = 0;

/**
 * A fresh database for one test file, cloned from the template that global setup migrated once
 * (cloning takes milliseconds; migrating each time would not).
 */
export async function createTestDatabase(): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  const template = process.env.SNAPDECK_TEST_TEMPLATE_DB;
  if (!template) throw new Error('SNAPDECK_TEST_TEMPLATE_DB is not set: run tests through jest (global setup)');
  const name = `snapdeck_t_${process.pid}_${Date.now()}_${counter++}`;
  await withAdminClient((c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${template}`));
  return {
    name,
    url: databaseUrl(name),
    drop: () => withAdminClient((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

/** A connected Database on a fresh clone; `close` disconnects and drops it. */
export async function openTestDatabase(): Promise<{ db: Database; url: string; close: () => Promise<void> }> {
  const created = await createTestDatabase();
  const dataSource = createDataSource({ url: created.url, poolSize: 5 });
  await dataSource.initialize();
  return {
    db: new Database(dataSource),
    url: created.url,
    close: async () => {
      await dataSource.destroy();
      await created.drop();
    },
  };
}
