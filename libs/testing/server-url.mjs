// The PostgreSQL server the tests create their databases on, for global setup (plain JS, outside ts-jest) and
// for the test files (libs/testing/src/databases.ts) alike.

/** The maintenance database of a local PostgreSQL: the default when no URL is configured. */
export const LOCAL_DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** TEST_DATABASE_URL, else DATABASE_URL, else the local default (global setup sets TEST_DATABASE_URL to an embedded server's). */
export function testServerUrl() {
  return process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? LOCAL_DEFAULT_URL;
}
