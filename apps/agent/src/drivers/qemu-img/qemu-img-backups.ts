import { randomUUID } from 'node:crypto';
import { readdir, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  BACKUP_MANIFEST_FILE,
  type BackupLocation,
  type BackupManifest,
  type BackupManifestVolume,
  type BackupStorageLocation,
  backupVolumeFile,
  type CreateBackupPayload,
  type DeleteBackupPayload,
  type DeleteBackupResult,
  type RestoreBackupPayload,
} from '@snapdeck/contracts';
import { BACKUP_PARTIAL, fileSha256, folderBytes, removeBackupFolder } from '../backups/backup-files.js';
import { compressionArgs } from '../backups/backup-input.js';
import { parentVolumeFile, parseManifest } from '../backups/backup-manifest.js';
import { probeBackupStorage } from '../backups/storage-probe.js';
import { DriverError } from '../volume-driver.js';
import { errorCode, fsFailure } from './fs-errors.js';
import type { QcowImageInfo } from './qemu-img-info.js';
import { isInside } from './secondary-storage.js';
import { syncPath } from './sync-path.js';

type Labels = Map<string, string>;
type QemuImg = (args: string[], action: string, labels: ReadonlyMap<string, string>) => Promise<string>;

/** What a backup reads of one volume. */
export interface BackupSource {
  volumeId: string;
  /** The volume's file. */
  file: string;
  /** Read with -U (force-share): a running or paused domain holds the file's lock. */
  shared: boolean;
  /** Read this internal snapshot (a consistent point of a running disk) instead of the active layer. */
  snapshotTag?: string;
}

/** A backup whose storage answered, with its folder's real path; `existing` when it was complete already. */
export interface PreparedBackup {
  payload: CreateBackupPayload;
  dir: string;
  existing: BackupManifest | null;
  /** An incremental's parent, complete: its volumes' files are the backing files of this backup's. */
  parent: BackupManifest | null;
  startedAt: Date;
  labels: Labels;
  action: string;
}

/** A restore's source, verified: the file of the restored backup (which reads through its chain). */
export interface VerifiedSource {
  file: string;
  virtualSizeBytes: number;
  labels: Labels;
}

/** What the guest's side of a backup was; the manifest records it. */
export interface BackupFacts {
  instanceWasRunning: boolean;
  quiesced: boolean;
}

/**
 * Backups on qcow2 files with qemu-img: the contract's folder `<storage>/<organizationId>/<backupId>/` holds one
 * qcow2 per volume (`qemu-img convert`, compressed as asked) and `manifest.json`, written last: its presence
 * means the backup is complete. Every storage is probed first in a child process with a bound (see
 * storage-probe.ts), so no fs call of this process meets a dead mount before the probe passed. Only names an
 * agent writes are ever removed, and only in the backup's own folder.
 */
export class QemuImgBackups {
  private readonly secondaryRoot: string;

  constructor(
    secondaryRoot: string,
    private readonly qemuImg: QemuImg,
    private readonly info: (file: string, action: string, labels: Labels) => Promise<QcowImageInfo>,
  ) {
    this.secondaryRoot = resolve(secondaryRoot);
  }

  /** The storage's absolute path on this host. */
  storageRoot(storage: BackupStorageLocation): string {
    return storage.root === 'secondary' ? join(this.secondaryRoot, storage.path) : storage.path;
  }

  /**
   * Probes the storage (making the backup's folder), resolves the folder's real path, and reads the manifest of
   * a complete backup (a repeated delivery). Nothing of the instance is touched yet: a caller pauses a guest only
   * after this passed.
   */
  async prepare(payload: CreateBackupPayload): Promise<PreparedBackup> {
    const action = `Could not back up instance ${payload.instanceId} to backup ${payload.backupId}`;
    const dir = await this.folderOf(payload, 'write', payload.probeTimeoutSeconds, action);
    const labels = this.labelsOf(payload, dir);
    const parent = payload.parent ? await this.parentOf(payload.parent, payload.probeTimeoutSeconds, action) : null;
    const existing = await this.readManifest(payload, dir, action, true);
    return { payload, dir, existing, parent, startedAt: new Date(), labels, action };
  }

  /**
   * Writes every volume (temporary name, flushed, sha256 of the flushed file, renamed), then the manifest the same
   * way. Whatever fails, this backup's files are removed (never another backup's) and the error is thrown.
   */
  async write(
    prepared: PreparedBackup,
    sources: readonly BackupSource[],
    facts: BackupFacts,
  ): Promise<{ manifest: BackupManifest; sizeBytes: number }> {
    const { payload, dir, labels, action } = prepared;
    try {
      // What an earlier delivery left when its agent died mid-write: temporary names only ever.
      for (const name of await readdir(dir)) {
        if (name.includes(BACKUP_PARTIAL)) await rm(join(dir, name), { force: true });
      }
      const volumes: BackupManifestVolume[] = [];
      for (const spec of payload.volumes) {
        const source = sources.find((s) => s.volumeId === spec.volumeId);
        if (!source) throw new DriverError(`${action}: nothing to read volume ${spec.volumeId} from`);
        const written = await this.writeVolume(prepared, source);
        volumes.push({ volumeId: spec.volumeId, name: spec.name, type: spec.type, ...written });
      }
      const manifest: BackupManifest = {
        format: 1,
        backupId: payload.backupId,
        organizationId: payload.organizationId,
        instanceId: payload.instanceId,
        instanceName: payload.instanceName,
        mode: payload.mode,
        compression: payload.compression,
        incremental: prepared.parent !== null,
        parentBackupId: prepared.parent?.backupId ?? null,
        instanceWasRunning: facts.instanceWasRunning,
        quiesced: facts.quiesced,
        startedAt: prepared.startedAt.toISOString(),
        completedAt: new Date().toISOString(),
        volumes,
      };
      await this.writeDurably(dir, BACKUP_MANIFEST_FILE, `${JSON.stringify(manifest, null, 2)}\n`, action);
      return { manifest, sizeBytes: await folderBytes(dir, action) };
    } catch (error) {
      await this.discard(prepared);
      throw relabel(error, labels);
    }
  }

  /**
   * Removes what a backup that did not complete left in its folder (the folder the probe made, files written
   * before a failure). A complete backup is never removed: no half backup is ever left to be listed.
   */
  async discard(prepared: PreparedBackup): Promise<void> {
    const complete = await this.readManifest(prepared.payload, prepared.dir, prepared.action, false).catch(() => null);
    if (complete === null) await removeBackupFolder(prepared.dir, prepared.action).catch(() => undefined);
  }

  /** Bytes the backup's own folder holds. */
  sizeOf(prepared: PreparedBackup): Promise<number> {
    return folderBytes(prepared.dir, prepared.action);
  }

  /**
   * Checks the whole chain before anything is written: every manifest read and consistent with the chain, every
   * file a target needs hashed and compared with its manifest, every header's backing file the one recorded. A
   * mismatch fails here, naming the backup and the volume. Returns, per source volume, the file to read.
   */
  async verifyChain(
    payload: RestoreBackupPayload,
    action: string,
  ): Promise<{ sources: Map<string, VerifiedSource>; verifiedFiles: number }> {
    const links: { location: BackupLocation; dir: string; manifest: BackupManifest; labels: Labels }[] = [];
    for (const [index, location] of payload.chain.entries()) {
      const dir = await this.folderOf(location, 'read', payload.probeTimeoutSeconds, action, true);
      const manifest = await this.readManifest(location, dir, action, false);
      if (manifest === null) {
        throw new DriverError(`${action}: backup ${location.backupId} is not complete (it has no manifest)`);
      }
      const expectedParent = payload.chain[index + 1]?.backupId ?? null;
      if (manifest.parentBackupId !== expectedParent && manifest.parentBackupId !== null) {
        throw new DriverError(
          `${action}: backup ${location.backupId} is an incremental of ${manifest.parentBackupId}, which the chain lacks`,
        );
      }
      links.push({ location, dir, manifest, labels: this.labelsOf(location, dir) });
      if (manifest.parentBackupId === null) break;
    }
    const sources = new Map<string, VerifiedSource>();
    let verifiedFiles = 0;
    const labels: Labels = new Map(links.flatMap((link) => [...link.labels]));
    for (const { sourceVolumeId } of payload.targets) {
      let top: VerifiedSource | undefined;
      for (const link of links) {
        const volume = link.manifest.volumes.find((v) => v.volumeId === sourceVolumeId);
        if (!volume) {
          throw new DriverError(`${action}: backup ${link.location.backupId} holds no volume ${sourceVolumeId}`);
        }
        const file = join(link.dir, volume.file);
        await this.verifyFile(link.location.backupId, volume, file, action, link.labels);
        verifiedFiles++;
        top ??= { file, virtualSizeBytes: volume.virtualSizeBytes, labels };
        if (volume.backingFile === null) break;
      }
      if (top) sources.set(sourceVolumeId, top);
    }
    return { sources, verifiedFiles };
  }

  /** Removes the backup's folder; a missing one is alreadyGone. Names no agent writes are left, and said. */
  async delete(payload: DeleteBackupPayload): Promise<DeleteBackupResult> {
    const action = `Could not delete backup ${payload.backupId}`;
    const root = this.storageRoot(payload.storage);
    const probe = await probeBackupStorage(
      {
        root,
        folder: payload.folder,
        mode: 'read',
        createRoot: payload.storage.root === 'secondary',
        timeoutMs: payload.probeTimeoutSeconds * 1000,
      },
      action,
    );
    if (!probe.folderExists) return { alreadyGone: true };
    const dir = await this.realFolder(root, payload.folder, action);
    const { missing, foreignNames } = await removeBackupFolder(dir, action);
    if (foreignNames > 0) {
      throw new DriverError(
        `${action}: its files were removed, but its folder holds ${foreignNames} other name(s) no agent wrote; they were left`,
      );
    }
    return { alreadyGone: missing };
  }

  private async writeVolume(
    prepared: PreparedBackup,
    source: BackupSource,
  ): Promise<Omit<BackupManifestVolume, 'volumeId' | 'name' | 'type'>> {
    const { dir, labels, action, payload } = prepared;
    const name = backupVolumeFile(source.volumeId);
    const partial = join(dir, `${name}${BACKUP_PARTIAL}${randomUUID()}`);
    labels.set(source.file, `volume ${source.volumeId}`).set(partial, `the backup file of volume ${source.volumeId}`);
    try {
      await stat(source.file).catch((error: unknown) => {
        if (errorCode(error) !== 'ENOENT') throw error;
        throw new DriverError(`${action}: volume ${source.volumeId} does not exist on this host`);
      });
      const onParent = prepared.parent?.volumes.some((v) => v.volumeId === source.volumeId) === true;
      const backingFile = onParent ? parentVolumeFile(prepared.parent?.backupId as string, source.volumeId) : null;
      if (backingFile === null) {
        const read = [
          ...(source.shared ? ['-U'] : []),
          ...(source.snapshotTag ? ['-l', `snapshot.name=${source.snapshotTag}`] : []),
        ];
        const args = ['convert', ...read, '-f', 'qcow2', '-O', 'qcow2', ...compressionArgs(payload.compression)];
        await this.qemuImg([...args, source.file, partial], action, labels);
      } else {
        await this.writeDelta(prepared, source, backingFile, partial);
      }
      await syncPath(partial);
      const info = await this.info(partial, action, labels);
      const sha256 = await fileSha256(partial);
      const { size } = await stat(partial);
      await rename(partial, join(dir, name));
      await syncPath(dir);
      return { virtualSizeBytes: info.virtualSizeBytes, file: name, sha256, sizeBytes: size, backingFile };
    } catch (error) {
      if (error instanceof DriverError) throw error;
      throw fsFailure(action, error, 'backup storage');
    } finally {
      await rm(partial, { force: true });
    }
  }

  /**
   * An incremental's file (PLATFORM.md, checked there): an empty overlay on the current data, then a safe
   * `qemu-img rebase` onto the parent's file, which copies in only the clusters where the two differ; compressed
   * afterwards with `convert -B` (which copies only the overlay's own clusters). `convert -B` alone would copy
   * every cluster. A consistent point inside the volume (SNAPSHOT mode) is first read out to a temporary file
   * (an internal snapshot cannot be a backing file), and so is a disk a running QEMU holds.
   */
  private async writeDelta(
    prepared: PreparedBackup,
    source: BackupSource,
    backingFile: string,
    partial: string,
  ): Promise<void> {
    const { labels, action, payload } = prepared;
    // rebase opens the overlay's backing read-write-shared, which a running QEMU's lock refuses: a disk it holds
    // (and any internal snapshot) is read out first.
    const readOut = source.shared || source.snapshotTag !== undefined;
    const current = readOut ? `${partial}-point` : source.file;
    const delta = `${partial}-delta`;
    labels.set(current, `volume ${source.volumeId}`).set(delta, `the backup file of volume ${source.volumeId}`);
    const shared = source.shared ? ['-U'] : [];
    try {
      if (readOut) {
        const point = source.snapshotTag ? ['-l', `snapshot.name=${source.snapshotTag}`] : [];
        await this.qemuImg(
          ['convert', ...shared, ...point, '-f', 'qcow2', '-O', 'qcow2', source.file, current],
          action,
          labels,
        );
      }
      const size = (await this.info(current, action, labels)).virtualSizeBytes;
      await this.qemuImg(
        ['create', '-q', '-u', '-f', 'qcow2', '-b', current, '-F', 'qcow2', delta, String(size)],
        action,
        labels,
      );
      // Relative to the delta's folder, as the manifest records it: the folder can move with its storage.
      await this.qemuImg(['rebase', '-q', '-f', 'qcow2', '-b', backingFile, '-F', 'qcow2', delta], action, labels);
      if (payload.compression === 'NONE') {
        await rename(delta, partial);
      } else {
        const base = ['-B', backingFile, '-F', 'qcow2'];
        const args = ['convert', '-f', 'qcow2', '-O', 'qcow2', ...compressionArgs(payload.compression), ...base];
        await this.qemuImg([...args, delta, partial], action, labels);
      }
    } finally {
      await rm(delta, { force: true });
      if (current !== source.file) await rm(current, { force: true });
    }
  }

  private async verifyFile(
    backupId: string,
    volume: BackupManifestVolume,
    file: string,
    action: string,
    labels: Labels,
  ): Promise<void> {
    const what = `the file of volume ${volume.volumeId} in backup ${backupId}`;
    let sha256: string;
    try {
      sha256 = await fileSha256(file);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') throw new DriverError(`${action}: ${what} is missing; nothing was restored`);
      throw fsFailure(action, error, 'backup storage');
    }
    if (sha256 !== volume.sha256) {
      throw new DriverError(
        `${action}: ${what} does not match the sha256 its manifest recorded (the backup is damaged or was changed); nothing was restored`,
      );
    }
    // The header must name no other file than the manifest does: a restore reads what the header names.
    const info = await this.info(file, action, labels);
    if (info.dataFile !== null || info.backingFile !== volume.backingFile) {
      throw new DriverError(`${action}: ${what} names a backing or data file its manifest does not; refused`);
    }
  }

  /**
   * Probes the storage, then resolves the backup's folder to its real path, refused when a symbolic link takes it
   * out of the storage (or the storage out of secondary storage).
   */
  private async folderOf(
    location: BackupLocation,
    mode: 'write' | 'read',
    timeoutSeconds: number,
    action: string,
    mustExist = false,
  ): Promise<string> {
    const { root, folderExists } = await this.probe(location, mode, timeoutSeconds, action);
    if (!folderExists && (mustExist || mode === 'write')) {
      throw new DriverError(`${action}: backup ${location.backupId} does not exist in its storage`);
    }
    return this.realFolder(root, location.folder, action);
  }

  /**
   * The parent an incremental builds on, or null when it is gone from its storage or its manifest is missing or
   * broken (removed or damaged outside Snapdeck): the backup is then a full one, which depends on nothing, and
   * the api records why. A storage that does not answer still fails the backup.
   */
  private async parentOf(location: BackupLocation, timeoutSeconds: number, action: string) {
    const { root, folderExists } = await this.probe(location, 'read', timeoutSeconds, action);
    if (!folderExists) return null;
    return this.readManifest(location, await this.realFolder(root, location.folder, action), action, true);
  }

  /** The storage probe, bounded: a dead mount fails here, before anything of the instance is touched. */
  private async probe(location: BackupLocation, mode: 'write' | 'read', timeoutSeconds: number, action: string) {
    const root = this.storageRoot(location.storage);
    const probe = await probeBackupStorage(
      {
        root,
        folder: location.folder,
        mode,
        createRoot: location.storage.root === 'secondary',
        timeoutMs: timeoutSeconds * 1000,
      },
      action,
    );
    return { root, folderExists: probe.folderExists };
  }

  private async realFolder(root: string, folder: string, action: string): Promise<string> {
    try {
      const realRoot = await realpath(root);
      if (root.startsWith(`${this.secondaryRoot}/`) && !isInside(await realpath(this.secondaryRoot), realRoot)) {
        throw new DriverError(`${action}: the backup storage resolves outside secondary storage; refused`);
      }
      const real = await realpath(join(root, folder));
      if (!isInside(realRoot, real)) {
        throw new DriverError(`${action}: the backup's folder resolves outside its storage; refused`);
      }
      return real;
    } catch (error) {
      if (error instanceof DriverError) throw error;
      throw fsFailure(action, error, 'backup storage');
    }
  }

  /** The manifest of a complete backup; null when there is none (`tolerateBroken`: a broken one counts as none). */
  private async readManifest(
    location: BackupLocation,
    dir: string,
    action: string,
    tolerateBroken: boolean,
  ): Promise<BackupManifest | null> {
    let text: string;
    try {
      text = await readFile(join(dir, BACKUP_MANIFEST_FILE), 'utf8');
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return null;
      throw fsFailure(action, error, 'backup storage');
    }
    try {
      return parseManifest(text, location.backupId);
    } catch (error) {
      if (tolerateBroken) return null;
      throw error;
    }
  }

  /** A small file under its final name only once flushed: temporary name, fsync, rename, fsync of the folder. */
  private async writeDurably(dir: string, name: string, content: string, action: string): Promise<void> {
    const partial = join(dir, `${name}${BACKUP_PARTIAL}${randomUUID()}`);
    try {
      await writeFile(partial, content, { mode: 0o644, flag: 'wx' });
      await syncPath(partial);
      await rename(partial, join(dir, name));
      await syncPath(dir);
    } catch (error) {
      throw fsFailure(action, error, 'backup storage');
    } finally {
      await rm(partial, { force: true });
    }
  }

  private labelsOf(location: BackupLocation, dir: string): Labels {
    const root = this.storageRoot(location.storage);
    return new Map([
      [dir, `backup ${location.backupId}`],
      [join(root, location.folder), `backup ${location.backupId}`],
      [root, 'backup storage'],
      [this.secondaryRoot, 'secondary storage'],
    ]);
  }
}

/** A DriverError's message with host paths replaced by their labels (qemu-img's own are replaced already). */
function relabel(error: unknown, labels: Labels): unknown {
  if (!(error instanceof Error)) return error;
  for (const [path, label] of [...labels].sort(([a], [b]) => b.length - a.length)) {
    error.message = error.message.split(path).join(label);
  }
  return error;
}
