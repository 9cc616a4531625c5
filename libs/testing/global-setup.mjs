// Jest global setup runs outside ts-jest's module mapping, so it uses the built libraries (npm test builds
// first). It migrates one template database per run; every test file clones it.
import { createDataSource } from '@snapdeck/persistence';
import { MIGRATIONS } from '@snapdeck/migrations';
import pg from 'pg';

export function testServerUrl() {
  return process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}

async function admin(sql) {
  const client = new pg.Client({ connectionString: testServerUrl() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export default async function globalSetup() {
  if (process.env.TEST_TIER === 'unit') return;
  const template = `snapdeck_tpl_${process.pid}`;
  await admin(`DROP DATABASE IF EXISTS ${template}`);
  await admin(`CREATE DATABASE ${template}`);
  const url = new URL(testServerUrl());
  url.pathname = `/${template}`;
  const dataSource = createDataSource({ url: url.toString(), migrations: MIGRATIONS });
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: 'each' });
  await dataSource.destroy();
  process.env.SNAPDECK_TEST_TEMPLATE_DB = template;
}

export async function dropTemplate() {
  const template = process.env.SNAPDECK_TEST_TEMPLATE_DB;
  if (template) await admin(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`);
}
