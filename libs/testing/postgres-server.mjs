// The embedded PostgreSQL the tests use when no other server answers, and the probe that decides. Plain JS: global
// setup runs outside ts-jest, on the built libraries (npm test builds first).
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedPostgres } from '@snapdeck/embedded-postgres';
import pg from 'pg';

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

/**
 * Starts a private PostgreSQL (the one `npm start` embeds: libs/embedded-postgres) on a free port of 127.0.0.1,
 * with its data in a fresh folder under the system's temp folder and durability off: it lives for one test run,
 * and `stop()` ends it and deletes the data.
 */
export async function startEmbeddedPostgres({ port, dataDir } = {}) {
  dataDir ??= join(tmpdir(), `snapdeck-test-pg-${process.pid}-${randomBytes(4).toString('hex')}`);
  let server;
  try {
    server = await EmbeddedPostgres.start({ dataDir, port, ephemeral: true });
  } catch (error) {
    throw new Error(`embedded PostgreSQL did not start: ${error?.message ?? error}`, { cause: error });
  }
  const url = server.url;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query(`SELECT current_setting('server_version') AS version`);
  await client.end();
  // A run cut short (Ctrl-C, a CI timeout) skips global teardown: the server must not outlive jest. A signal is
  // raised again once the server is down, so jest still ends the way the signal says.
  const onExit = () => server.stopNowSync();
  const onSignal = (signal) => {
    onExit();
    process.kill(process.pid, signal);
  };
  process.once('exit', onExit);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    url,
    port: Number(new URL(url).port),
    dataDir,
    version: rows[0].version,
    stop: async () => {
      process.removeListener('exit', onExit);
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      await server.stop();
    },
  };
}
