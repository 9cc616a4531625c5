import { backupFolder, type BackupLocation, type BackupStorageLocation } from '@snapdeck/contracts';
import { BackupState, conflict } from '@snapdeck/domain';
import {
  ALL_ORGANIZATIONS,
  type BackupEntity,
  type BackupStorageEntity,
  type Repositories,
} from '@snapdeck/persistence';

/** Where a storage lies on every node, as the agent reads it. */
export function storageLocation(storage: BackupStorageEntity): BackupStorageLocation {
  return storage.root === 'secondary'
    ? { root: 'secondary', path: storage.path }
    : { root: 'absolute', path: storage.path };
}

/** Where one backup lies: its storage and its folder `<organizationId>/<backupId>` there. */
export function backupLocation(
  backup: Pick<BackupEntity, 'id' | 'organizationId'>,
  storage: BackupStorageEntity,
): BackupLocation {
  return {
    backupId: backup.id,
    storage: storageLocation(storage),
    folder: backupFolder(backup.organizationId, backup.id),
  };
}

/** The backup, then its parent, grandparent, …: every one READY (a parent cannot be deleted while it has children). */
export async function restoreChain(tx: Repositories, backup: BackupEntity): Promise<BackupLocation[]> {
  const chain: BackupLocation[] = [];
  for (let at: BackupEntity | null = backup; at;) {
    if (at.state !== BackupState.READY) throw conflict(`Backup ${at.name}, a parent of ${backup.name}, is ${at.state}`);
    const storage = (await tx.backupStorages.findById(at.storageId))!;
    chain.push(backupLocation(at, storage));
    at = at.parentId ? await tx.backups.findById(ALL_ORGANIZATIONS, at.parentId) : null;
  }
  return chain;
}
