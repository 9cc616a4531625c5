import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { resultId, type JobFinishedMessage } from '@snapdeck/contracts';

/**
 * FINISHED results the api has not acknowledged yet, one fsync'ed file each under `<AGENT_STORAGE_DIR>/outbox`
 * (beside `volumes/`, outside what the storage audit lists). A result is written here before it is published,
 * and removed only once the api acknowledged it: a result lost with Redis, dropped after the results queue's
 * retries while PostgreSQL was down, or unpublished when the agent died, is published again from here.
 */
export class ResultOutbox {
  private readonly dir: string;

  constructor(storageDir: string) {
    this.dir = join(storageDir, 'outbox');
  }

  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  /** Durable once it resolves: the file and its directory entry are both synced. */
  async put(message: JobFinishedMessage): Promise<void> {
    const id = resultId(message);
    const file = join(this.dir, `${id}.json`);
    const temp = `${file}.tmp`;
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(JSON.stringify(message));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
    await this.syncDir();
  }

  /** Every result kept, in no particular order (the api applies each on its own). */
  async list(): Promise<JobFinishedMessage[]> {
    const names = (await readdir(this.dir)).filter((name) => name.endsWith('.json'));
    const messages: JobFinishedMessage[] = [];
    for (const name of names) {
      try {
        messages.push(JSON.parse(await readFile(join(this.dir, name), 'utf8')) as JobFinishedMessage);
      } catch {
        // Removed meanwhile (acknowledged by a concurrent pass); a torn file cannot exist (written, synced, renamed).
      }
    }
    return messages;
  }

  async remove(id: string): Promise<void> {
    await rm(join(this.dir, `${id}.json`), { force: true });
  }

  private async syncDir(): Promise<void> {
    const handle = await open(this.dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}
