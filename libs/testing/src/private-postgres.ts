import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedPostgres } from '@snapdeck/embedded-postgres';

/** A PostgreSQL server of one test's own, which it may stop and start again (never the machine's shared one). */
export interface PrivatePostgres {
  /** The `postgres` database of the server; the same across restarts (same port, same password). */
  readonly url: string;
  /** A fast shutdown: connections are dropped, new ones refused until start(). */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it for good and removes its files. */
  close(): Promise<void>;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const root = await mkdtemp(join(tmpdir(), 'snapdeck-pg-'));
  // Run as the postgres account when the tests run as root: it must reach the cluster's folder.
  await chmod(root, 0o755);
  const dataDir = join(root, 'cluster');
  let server = await EmbeddedPostgres.start({ dataDir });
  const port = Number(new URL(server.url).port);
  let running = true;
  return {
    url: server.url,
    async stop() {
      await server.stop();
      running = false;
    },
    async start() {
      server = await EmbeddedPostgres.start({ dataDir, port });
      running = true;
    },
    async close() {
      if (running) await server.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}
