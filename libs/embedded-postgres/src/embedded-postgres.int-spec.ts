import { access, chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { EmbeddedPostgres } from './embedded-postgres.js';

async function query(url: string, sql: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('EmbeddedPostgres (the binaries of the embedded-postgres package)', () => {
  let home: string;
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'snapdeck-embedded-pg-'));
    // As root the server runs as postgres, which must reach the folder (mkdtemp makes it 0700).
    await chmod(home, 0o755);
  });
  afterAll(() => rm(home, { recursive: true, force: true }));

  it('initialises a cluster, keeps its rows across a stop and a start, and stops cleanly', async () => {
    const dataDir = join(home, 'postgres');
    const first = await EmbeddedPostgres.start({ dataDir });
    try {
      await query(first.url, 'CREATE TABLE kept (v text); INSERT INTO kept VALUES ($$across restarts$$)');
      expect(new URL(first.url).hostname).toBe('127.0.0.1');
    } finally {
      await first.stop();
    }
    expect(await first.isRunning()).toBe(false);

    const second = await EmbeddedPostgres.start({ dataDir });
    try {
      await expect(query(second.url, 'SELECT v FROM kept')).resolves.toEqual([{ v: 'across restarts' }]);
    } finally {
      await second.stop();
    }
  });

  // Only root hands the server to another account; elsewhere there is nothing to check (and jest says skipped).
  const asRoot = process.getuid?.() === 0 ? it : it.skip;
  asRoot('says plainly when the server account cannot reach the state folder', async () => {
    const closed = await mkdtemp(join(tmpdir(), 'snapdeck-closed-'));
    try {
      await expect(EmbeddedPostgres.start({ dataDir: join(closed, 'postgres') })).rejects.toThrow(
        /cannot reach .*SNAPDECK_HOME/,
      );
    } finally {
      await rm(closed, { recursive: true, force: true });
    }
  });

  it('stops at once, synchronously, for a process on its way out, and removes an ephemeral cluster', async () => {
    const dataDir = join(home, 'exiting');
    const server = await EmbeddedPostgres.start({ dataDir, ephemeral: true });
    server.stopNowSync();
    expect(await server.isRunning()).toBe(false);
    await expect(access(dataDir)).rejects.toThrow(/ENOENT/);
  });

  it('refuses a connection without its password', async () => {
    const server = await EmbeddedPostgres.start({ dataDir: join(home, 'auth') });
    try {
      const url = new URL(server.url);
      url.password = 'wrong';
      await expect(query(url.toString(), 'SELECT 1')).rejects.toThrow(/password authentication failed/);
    } finally {
      await server.stop();
    }
  });

  it('stops a server left running by a start that crashed, then starts its own', async () => {
    const dataDir = join(home, 'orphan');
    const orphan = await EmbeddedPostgres.start({ dataDir });
    // The process that started it is gone without stopping it: the next start finds it running.
    const next = await EmbeddedPostgres.start({ dataDir });
    try {
      expect(await next.isRunning()).toBe(true);
      await expect(query(orphan.url, 'SELECT 1')).rejects.toThrow();
      await expect(query(next.url, 'SELECT 1 AS one')).resolves.toEqual([{ one: 1 }]);
    } finally {
      await next.stop();
    }
  });
});
