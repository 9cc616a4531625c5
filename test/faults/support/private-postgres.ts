import { execFile, execFileSync } from 'node:child_process';
import { chown, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { atExit } from './cleanup.js';
import { freePortIn, sleep, waitFor } from './ports.js';

const run = promisify(execFile);

/** Debian's PostgreSQL 15 programs (the machine's server is never touched: this is a cluster of its own). */
export const POSTGRES_BIN = process.env.FAULTS_POSTGRES_BIN ?? '/usr/lib/postgresql/15/bin';

interface Account {
  uid: number;
  gid: number;
}

/**
 * A PostgreSQL cluster of the campaign's own, in a temp folder on a port in 25400-25499: started, restarted
 * fast, its postmaster SIGKILLed and started again. Trust authentication on loopback: a throw-away test cluster.
 * Runs as the `postgres` account when the tests run as root (PostgreSQL refuses root), as libs/embedded-postgres does.
 */
export class PrivatePostgres {
  private unregister: () => void = () => undefined;

  private constructor(
    readonly dataDir: string,
    readonly port: number,
    private readonly account: Account | undefined,
  ) {}

  static async create(root: string): Promise<PrivatePostgres> {
    const account = await serverAccount();
    const dataDir = join(root, 'pgdata');
    await mkdir(dataDir, { mode: 0o700 });
    if (account) await chown(dataDir, account.uid, account.gid);
    await run(
      join(POSTGRES_BIN, 'initdb'),
      [`--pgdata=${dataDir}`, '--username=postgres', '--auth=trust', '--encoding=UTF8', '--locale=C'],
      { ...account },
    );
    return new PrivatePostgres(dataDir, await freePortIn(25400, 25499), account);
  }

  private get logFile(): string {
    return join(this.dataDir, 'server.log');
  }

  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  async start(): Promise<void> {
    // After a SIGKILLed postmaster its backends take a moment to notice and release shared memory: retry.
    await waitFor(
      async () => {
        await this.pgCtl([
          'start',
          '--wait',
          '--timeout=30',
          `--log=${this.logFile}`,
          // Durability off: the campaigns kill processes, not the machine, so the OS keeps every write.
          `--options=-p ${this.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c fsync=off -c max_connections=200`,
        ]);
        return true;
      },
      60_000,
      'the private PostgreSQL to start',
      500,
    );
    this.unregister();
    this.unregister = atExit(() => this.stopNowSync());
  }

  /** `pg_ctl restart -m fast`: open transactions roll back, connections drop; resolves when it accepts again. */
  async restartFast(): Promise<void> {
    // --log as at start: else the new postmaster holds pg_ctl's stdout open and the call never returns.
    await this.pgCtl(['restart', '--wait', '--timeout=60', '--mode=fast', `--log=${this.logFile}`]);
  }

  /** SIGKILL of the postmaster (its backends die on their own once they notice). */
  async killPostmaster(): Promise<void> {
    const pid = await this.postmasterPid();
    process.kill(pid, 'SIGKILL');
    await waitFor(async () => !isAlive(pid), 10_000, `postmaster ${pid} to die`, 20);
  }

  async postmasterPid(): Promise<number> {
    const text = await readFile(join(this.dataDir, 'postmaster.pid'), 'utf8');
    return Number(text.split('\n')[0]);
  }

  /** A query on a fresh connection (the campaign's own reads; never through the api). */
  async query<R extends pg.QueryResultRow = Record<string, unknown>>(
    database: string,
    text: string,
    values: unknown[] = [],
  ): Promise<R[]> {
    const client = new pg.Client({ connectionString: this.url(database), connectionTimeoutMillis: 5000 });
    await client.connect();
    try {
      return (await client.query<R>(text, values)).rows;
    } finally {
      await client.end();
    }
  }

  /** Whether it accepts connections now. */
  async accepts(): Promise<boolean> {
    try {
      await this.query('postgres', 'SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  async stop(): Promise<void> {
    this.stopNowSync();
    this.unregister();
    await sleep(0);
  }

  private stopNowSync(): void {
    try {
      execFileSync(join(POSTGRES_BIN, 'pg_ctl'), ['stop', '--mode=immediate', `--pgdata=${this.dataDir}`], {
        ...this.account,
        stdio: 'ignore',
        timeout: 20_000,
      });
    } catch {
      // Not running: nothing to stop.
    }
  }

  private async pgCtl(args: string[]): Promise<void> {
    try {
      await run(join(POSTGRES_BIN, 'pg_ctl'), [...args, `--pgdata=${this.dataDir}`], {
        ...this.account,
        timeout: 90_000,
      });
    } catch (error) {
      const e = error as { stderr?: string; stdout?: string; message?: string };
      throw new Error(`pg_ctl ${args[0]} failed: ${(e.stderr || e.stdout || e.message || '').trim()}`);
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function serverAccount(): Promise<Account | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const id = async (flag: string) => Number((await run('id', [flag, 'postgres'])).stdout.trim());
  return { uid: await id('-u'), gid: await id('-g') };
}
