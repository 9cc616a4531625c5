import { mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isUuid } from '@snapdeck/domain';
import { errorCode, fsFailure } from '../qemu-img/fs-errors.js';
import { syncPath } from '../qemu-img/sync-path.js';

/** Under AGENT_STORAGE_DIR, beside the image journal: one entry per backup that changed a running domain. */
export const BACKUP_JOURNAL_FOLDER = '.snapdeck/backups';

/** What a live backup did to the domain, so that an agent killed meanwhile undoes it at its next start. */
export interface BackupJournalEntry {
  backupId: string;
  instanceId: string;
  /** The domain's disks in order, to start it again after STOP. */
  volumeIds: string[];
  /** `suspended`: resume it; `stopped`: start it; `snapshot`: remove the temporary snapshot `tag` from every disk. */
  step: 'suspended' | 'stopped' | 'snapshot';
  tag?: string;
  /** The snapshot was taken with the guest frozen: thaw it too (a no-op on a thawed guest). */
  quiesce?: boolean;
  at: string;
}

/**
 * A durable note "this backup paused, stopped or snapshotted a running domain", written (file and folder fsynced)
 * before the guest is touched and removed once the domain is back as it was. At start-up the agent reads what is
 * left and finishes it (LibvirtDriver.recoverInterruptedBackups), as the image journal does for qemu-img writes:
 * no guest stays paused because its backup's agent died (CloudStack #12821).
 */
export class BackupJournal {
  readonly folder: string;

  constructor(storageDir: string) {
    this.folder = join(storageDir, BACKUP_JOURNAL_FOLDER);
  }

  async write(entry: BackupJournalEntry): Promise<void> {
    const action = `Could not journal backup ${entry.backupId}`;
    try {
      await mkdir(this.folder, { recursive: true, mode: 0o700 });
      const temporary = join(this.folder, `.${entry.backupId}.tmp`);
      await writeFile(temporary, JSON.stringify(entry), { mode: 0o600 });
      await syncPath(temporary);
      await rename(temporary, this.entry(entry.backupId));
      await syncPath(this.folder);
    } catch (error) {
      throw fsFailure(action, error);
    }
  }

  async clear(backupId: string): Promise<void> {
    await unlink(this.entry(backupId)).catch((error: unknown) => {
      if (errorCode(error) !== 'ENOENT') throw fsFailure(`Could not clear the journal of backup ${backupId}`, error);
    });
  }

  /** The entries left; one that cannot be read is skipped (and stays, for an operator). */
  async list(): Promise<BackupJournalEntry[]> {
    let names: string[];
    try {
      names = await readdir(this.folder);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return [];
      throw fsFailure('Could not read the backup journal', error);
    }
    const entries: BackupJournalEntry[] = [];
    for (const name of names.filter((n) => n.endsWith('.json') && isUuid(n.slice(0, -5))).sort()) {
      try {
        entries.push(JSON.parse(await readFile(join(this.folder, name), 'utf8')) as BackupJournalEntry);
      } catch {
        // Unreadable: left for an operator.
      }
    }
    return entries;
  }

  async get(backupId: string): Promise<BackupJournalEntry | undefined> {
    return (await this.list()).find((entry) => entry.backupId === backupId);
  }

  private entry(backupId: string): string {
    return join(this.folder, `${backupId}.json`);
  }
}
