// Shared by the migration scripts: a throw-away database with every landed migration applied.
import pg from 'pg';
import { createDataSource } from '@snapdeck/persistence';
import { MIGRATIONS } from '@snapdeck/migrations';

export function adminUrl() {
  return process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}

export async function withMigratedScratchDatabase(work) {
  const name = `snapdeck_scratch_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name}`);
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  const dataSource = createDataSource({ url: url.toString(), migrations: MIGRATIONS });
  try {
    await dataSource.initialize();
    await dataSource.runMigrations({ transaction: 'each' });
    return await work(dataSource);
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await admin.query(`DROP DATABASE IF EXISTS ${name}`);
    await admin.end();
  }
}

/** The SQL that would bring the migrated schema up to the entities: empty when they agree. */
export async function pendingSchemaChanges(dataSource) {
  return dataSource.driver.createSchemaBuilder().log();
}
