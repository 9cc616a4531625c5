import { type BackupManifest, type BackupManifestVolume, backupVolumeFile } from '@snapdeck/contracts';
import { isUuid } from '@snapdeck/domain';
import { DriverError } from '../volume-driver.js';

const SHA256 = /^[0-9a-f]{64}$/;

/** An incremental's backing file as the manifest records it: its parent's file of the same volume. */
export function parentVolumeFile(parentBackupId: string, volumeId: string): string {
  return `../${parentBackupId}/${backupVolumeFile(volumeId)}`;
}

/**
 * Reads `manifest.json` as written by an agent, refusing anything that could lead a restore outside the backup's
 * own files: every volume file must be `<volumeId>.qcow2`, every backing file the parent's file of the same volume.
 */
export function parseManifest(text: string, backupId: string): BackupManifest {
  const refuse = (why: string) => new DriverError(`The manifest of backup ${backupId} is not valid: ${why}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw refuse('not JSON');
  }
  const manifest = value as Partial<BackupManifest>;
  if (typeof manifest !== 'object' || manifest === null || manifest.format !== 1) throw refuse('unknown format');
  if (manifest.backupId !== backupId) throw refuse('it names another backup');
  const parent = manifest.parentBackupId ?? null;
  if (parent !== null && !isUuid(parent)) throw refuse('its parent is not a backup id');
  if (!Array.isArray(manifest.volumes) || manifest.volumes.length === 0) throw refuse('it lists no volume');
  for (const volume of manifest.volumes as Partial<BackupManifestVolume>[]) {
    const id = volume.volumeId;
    if (typeof id !== 'string' || !isUuid(id)) throw refuse('a volume id is not a UUID');
    if (volume.file !== backupVolumeFile(id)) throw refuse(`the file of volume ${id} is not ${backupVolumeFile(id)}`);
    if (typeof volume.sha256 !== 'string' || !SHA256.test(volume.sha256)) throw refuse(`volume ${id} has no sha256`);
    if (typeof volume.virtualSizeBytes !== 'number') throw refuse(`volume ${id} has no virtual size`);
    const backing = volume.backingFile ?? null;
    if (backing !== null && (parent === null || backing !== parentVolumeFile(parent, id))) {
      throw refuse(`the backing file of volume ${id} is not its parent's file of that volume`);
    }
  }
  return manifest as BackupManifest;
}
