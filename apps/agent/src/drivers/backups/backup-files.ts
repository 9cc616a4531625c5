import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, rmdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { BACKUP_MANIFEST_FILE } from '@snapdeck/contracts';
import { errorCode, fsFailure } from '../qemu-img/fs-errors.js';

/** Infix of a backup file being written (`<name>.partial-<uuid>`), as elsewhere in the agent. */
export const BACKUP_PARTIAL = '.partial-';

const VOLUME_FILE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.qcow2$/;

/** The names an agent writes in a backup's folder: manifest, volume files, their temporary names, probe files. */
export function isBackupFileName(name: string): boolean {
  const stem = name.includes(BACKUP_PARTIAL) ? name.slice(0, name.indexOf(BACKUP_PARTIAL)) : name;
  return stem === BACKUP_MANIFEST_FILE || VOLUME_FILE.test(stem) || name.startsWith('.probe-');
}

/** sha256 (hex) of a file's bytes, read as a stream. */
export async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Bytes the regular files of a folder hold (a backup's own files; its parent's lie in another folder). */
export async function folderBytes(dir: string, action: string): Promise<number> {
  let total = 0;
  try {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.isFile()) total += (await lstat(join(dir, entry.name))).size;
    }
  } catch (error) {
    throw fsFailure(action, error, 'backup storage');
  }
  return total;
}

/**
 * Removes what an agent writes in a backup's folder, the manifest first (a half-removed backup must never look
 * complete), then the folder if that left it empty. Names an agent does not write are left where they are: the
 * result says whether the folder is gone. A missing folder is `missing`.
 */
export async function removeBackupFolder(
  dir: string,
  action: string,
): Promise<{ missing: boolean; foreignNames: number }> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return { missing: true, foreignNames: 0 };
    throw fsFailure(action, error, 'backup storage');
  }
  const ours = names.filter(isBackupFileName).sort((a, b) => order(a) - order(b));
  try {
    for (const name of ours) {
      await unlink(join(dir, name)).catch((error: unknown) => {
        if (errorCode(error) !== 'ENOENT') throw error;
      });
    }
    if (ours.length < names.length) return { missing: false, foreignNames: names.length - ours.length };
    await rmdir(dir).catch((error: unknown) => {
      if (errorCode(error) !== 'ENOENT') throw error;
    });
  } catch (error) {
    throw fsFailure(action, error, 'backup storage');
  }
  return { missing: false, foreignNames: 0 };
}

function order(name: string): number {
  return name === BACKUP_MANIFEST_FILE ? 0 : 1;
}
