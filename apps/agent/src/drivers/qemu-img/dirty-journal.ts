import { mkdir, open, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { isUuid } from '@snapdeck/domain';
import { errorCode, fsFailure } from './fs-errors.js';
import { syncPath } from './sync-path.js';

/** Under AGENT_STORAGE_DIR: one entry, named by volume id, per image whose metadata a qemu-img command is writing. */
export const DIRTY_JOURNAL_FOLDER = '.snapdeck/dirty';

/**
 * A durable note "this image is being written", made (and fsynced, file and folder) before a qemu-img command
 * that rewrites an image's metadata (`snapshot -c/-d/-a`) and removed once the command ended, whatever its
 * outcome. An agent killed in between leaves the entry: at its next start it checks that image before taking
 * jobs (a kill mid `snapshot -c` leaves leaked clusters, or worse). Entries are named by volume id, so the
 * per-volume lock that serializes the commands also serializes the entry's life.
 *
 * Creating a volume is not journaled: it is written under a temporary name (`*.partial-*`) that a crash leaves
 * to be removed, never under the volume's own name.
 */
export class DirtyJournal {
  readonly folder: string;

  constructor(storageDir: string) {
    this.folder = join(storageDir, DIRTY_JOURNAL_FOLDER);
  }

  async init(): Promise<void> {
    await mkdir(this.folder, { recursive: true, mode: 0o700 }).catch((error: unknown) => {
      throw fsFailure('Primary storage is not usable (the image journal)', error);
    });
  }

  /** Runs `write` with the image journaled: the entry is durable before it starts and removed after it ends. */
  async around<T>(volumeId: string, operation: string, write: () => Promise<T>): Promise<T> {
    await this.mark(volumeId, operation);
    try {
      return await write();
    } finally {
      await this.clear(volumeId);
    }
  }

  async mark(volumeId: string, operation: string): Promise<void> {
    const action = `Could not journal the write of volume ${volumeId}`;
    try {
      const handle = await open(this.entry(volumeId), 'w', 0o600);
      try {
        await handle.writeFile(JSON.stringify({ operation, at: new Date().toISOString() }));
        await handle.sync();
      } finally {
        await handle.close();
      }
      await syncPath(this.folder);
    } catch (error) {
      throw fsFailure(action, error);
    }
  }

  /** Removes the entry; a missing one is fine. Not fsynced: a lost removal costs only a needless check. */
  async clear(volumeId: string): Promise<void> {
    await unlink(this.entry(volumeId)).catch((error: unknown) => {
      if (errorCode(error) !== 'ENOENT') throw fsFailure(`Could not clear the journal of volume ${volumeId}`, error);
    });
  }

  /** The volume ids journaled; names that are not volume ids (nothing of ours) are ignored. */
  async list(): Promise<string[]> {
    try {
      return (await readdir(this.folder)).filter((name) => isUuid(name)).sort();
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return [];
      throw fsFailure('Could not read the image journal', error);
    }
  }

  private entry(volumeId: string): string {
    return join(this.folder, volumeId);
  }
}
