import { readFile, unlink, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

export interface LockHolder {
  pid: number;
  graphqlUrl?: string;
  startedAt: string;
}

/** How long a new holder waits before it trusts the file is still its own. */
const TAKEOVER_SETTLE_MS = 150;

export class AlreadyRunningError extends Error {
  constructor(
    readonly holder: LockHolder,
    readonly file: string,
  ) {
    super(
      `Snapdeck is already running from this folder (pid ${holder.pid}, started ${holder.startedAt}` +
        `${holder.graphqlUrl ? `, GraphQL at ${holder.graphqlUrl}` : ''}). Stop it first (Ctrl-C in its terminal, ` +
        `or kill ${holder.pid}); if no such process is Snapdeck, delete ${file}.`,
    );
    this.name = 'AlreadyRunningError';
  }
}

/**
 * One all-in-one process per state folder: two would share one database cluster and one storage folder. The
 * file is created exclusively; one left by a process that no longer exists (a crash, a kill -9) is taken over.
 */
export class InstanceLock {
  private constructor(
    private readonly file: string,
    private holder: LockHolder,
  ) {}

  static async acquire(file: string): Promise<InstanceLock> {
    const holder: LockHolder = { pid: process.pid, startedAt: new Date().toISOString() };
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await writeFile(file, JSON.stringify(holder), { flag: 'wx', mode: 0o644 });
        return await InstanceLock.confirmed(file, holder);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      // A holder that is still writing its file reads as nothing for an instant: look twice before taking over.
      const stale = (await readText(file)) || (await sleep(250).then(() => readText(file)));
      const current = parseHolder(stale);
      if (current && isAlive(current.pid) && current.pid !== process.pid) throw new AlreadyRunningError(current, file);
      // Remove the stale file only if it is still the one just read: another start may have replaced it.
      if ((await readText(file)) === stale) await unlink(file).catch(() => undefined);
    }
    throw new Error(`Could not take ${file}: another process keeps re-creating it`);
  }

  /**
   * Two starts that both found the same stale file can both unlink and create; the later create wins the file.
   * Each looks again a moment later, and the one whose content is gone steps back before touching anything.
   */
  private static async confirmed(file: string, holder: LockHolder): Promise<InstanceLock> {
    await sleep(TAKEOVER_SETTLE_MS);
    const current = parseHolder(await readText(file));
    if (current?.pid === process.pid && current.startedAt === holder.startedAt) return new InstanceLock(file, holder);
    if (current) throw new AlreadyRunningError(current, file);
    throw new Error(`Another Snapdeck took ${file} at the same moment and let go again; start once more`);
  }

  /** Records where the running process answers, for the message a second start prints. */
  async advertise(graphqlUrl: string): Promise<void> {
    this.holder = { ...this.holder, graphqlUrl };
    await writeFile(this.file, JSON.stringify(this.holder));
  }

  async release(): Promise<void> {
    const current = await readHolder(this.file);
    if (current?.pid === process.pid) await unlink(this.file).catch(() => undefined);
  }
}

async function readText(file: string): Promise<string> {
  return readFile(file, 'utf8').catch(() => '');
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const parsed = JSON.parse(text) as Partial<LockHolder>;
    return typeof parsed.pid === 'number' ? (parsed as LockHolder) : undefined;
  } catch {
    return undefined;
  }
}

async function readHolder(file: string): Promise<LockHolder | undefined> {
  return parseHolder(await readText(file));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
