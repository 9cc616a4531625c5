import pg from 'pg';

/** Creates the database a URL names when its server does not have it yet (a first start). */
export async function ensureDatabase(url: string): Promise<{ created: boolean }> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(
      `Cannot reach PostgreSQL at ${admin.host}: ${(error as Error).message}. Start it, or unset DATABASE_URL to use the embedded one.`,
    );
  }
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount) return { created: false };
    await client.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
    return { created: true };
  } finally {
    await client.end();
  }
}
