import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { access, link, lstat, mkdir, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import {
  type BackupManifest,
  type CreateBackupPayload,
  type CreateBackupResult,
  type DeleteBackupPayload,
  type DeleteBackupResult,
  type ImageCheck,
  type InventoryImage,
  type RestoreBackupPayload,
  type RestoreBackupResult,
  type StorageInventory,
  templatePath,
  type VolumeSource,
} from '@snapdeck/contracts';
import { checkedCreateBackup, checkedDeleteBackup, checkedRestoreBackup } from '../backups/backup-input.js';
import {
  checkedId,
  checkedRelativePath,
  checkedSizeGiB,
  checkedSource,
  checkFitsSize,
  describeSource,
  formatGiB,
  GIB,
  TRANSFERS_FOLDER,
} from '../driver-input.js';
import { KeyedMutex } from '../keyed-mutex.js';
import {
  type CopyResult,
  type CreateSnapshotOptions,
  type CreateSnapshotResult,
  type CreateVolumeResult,
  type DeleteSnapshotResult,
  DriverError,
  type InterruptedImage,
  type InterruptedImagesOptions,
  type InventoryOptions,
  type RemoveResult,
  snapshotMissing,
  VolumeDriver,
  type VolumeSnapshot,
} from '../volume-driver.js';
import { DirtyJournal } from './dirty-journal.js';
import { type ImageFile, ImageInspector } from './image-inspector.js';
import { errorCode, fsFailure, type StorageName } from './fs-errors.js';
import { parseQcow2Header, readHeaderBytes } from './qcow2-header.js';
import { describeQemuImgFailure } from './qemu-img-errors.js';
import { parseQemuImgInfo, type QcowImageInfo } from './qemu-img-info.js';
import {
  type BackupFacts,
  type BackupSource,
  type PreparedBackup,
  QemuImgBackups,
  type VerifiedSource,
} from './qemu-img-backups.js';
import { QemuImgProcessError, QemuImgRunner } from './qemu-img-runner.js';
import { SecondaryStorage } from './secondary-storage.js';
import { syncPath } from './sync-path.js';

export interface QemuImgDriverOptions {
  /** AGENT_STORAGE_DIR; volumes live in `<storageDir>/volumes/<volumeId>.qcow2` (public contract). */
  storageDir: string;
  /** SECONDARY_STORAGE_DIR; templates live in `<secondaryDir>/templates/<templateId>.qcow2` (public contract). */
  secondaryDir: string;
  /** AGENT_SECONDARY_READ_TIMEOUT_SECONDS, in milliseconds: a read of a shared file that stalls longer fails its job. */
  secondaryReadTimeoutMs?: number;
  runner?: QemuImgRunner;
}

/** How a wrapping driver asks for a source volume to be read while a running domain holds it. */
export interface ReadOptions {
  /**
   * Read with `-U` (force-share): the volume is a running domain's disk, whose write lock QEMU holds. Only an
   * internal snapshot is read then, never the active layer; see LibvirtDriver for why that is consistent.
   */
  sharedRead?: boolean;
}

type Labels = Map<string, string>;

/**
 * Infix of temporary files: a half-written image is never under its final name (`<final name>.partial-<uuid>`).
 * The inventory never lists them: a crash leaves them for the next operation on that name to remove.
 */
export const PARTIAL = '.partial-';
/** Private copies of images under inspection, in primary storage where only the agent writes. */
const WORK_FOLDER = '.snapdeck-work';
/** How long the start-up check waits for a killed agent's qemu-img child to let an image go (a large convert). */
const HELD_IMAGE_WAIT_MS = 30_000;
const HELD_IMAGE_POLL_MS = 100;
const IMPORT_PREFIX = 'import-';

/** Lock key of a file in secondary storage; volume locks are keyed by the bare volume id. */
const secondaryKey = (relativePath: string) => `secondary:${relativePath}`;
/** Lock key of a backup: two deliveries of one backup never write its folder at once. */
const backupKey = (backupId: string) => `backup:${backupId}`;

/** Offline operations on qcow2 files with qemu-img; a volume snapshot is an internal snapshot tagged with its id. */
export class QemuImgDriver extends VolumeDriver {
  readonly name = 'qemu-img' as const;
  readonly volumesDir: string;
  readonly workDir: string;
  readonly secondary: SecondaryStorage;
  /** Images whose metadata a qemu-img command is rewriting; what a crash leaves is checked at the next start. */
  readonly journal: DirtyJournal;
  private readonly runner: QemuImgRunner;
  private readonly inspector: ImageInspector;
  private readonly backups: QemuImgBackups;
  /** qcow2 takes a write lock per file: operations on one volume run one at a time inside this agent. */
  private readonly locks = new KeyedMutex();

  constructor(options: QemuImgDriverOptions) {
    super();
    this.volumesDir = resolve(options.storageDir, 'volumes');
    this.workDir = resolve(options.storageDir, WORK_FOLDER);
    this.secondary = new SecondaryStorage(options.secondaryDir, { readTimeoutMs: options.secondaryReadTimeoutMs });
    this.runner = options.runner ?? new QemuImgRunner();
    this.inspector = new ImageInspector(this.runner);
    this.journal = new DirtyJournal(resolve(options.storageDir));
    this.backups = new QemuImgBackups(
      options.secondaryDir,
      (args, action, labels) => this.qemuImg(args, action, labels),
      (file, action, labels) => this.infoAt(file, action, labels),
    );
  }

  async init(): Promise<void> {
    const action = 'Primary storage is not usable';
    try {
      await mkdir(this.volumesDir, { recursive: true });
      await access(this.volumesDir, constants.R_OK | constants.W_OK);
      await mkdir(this.workDir, { recursive: true, mode: 0o700 });
      // Copies a crashed agent left behind; only our own names are touched.
      const stale = (await readdir(this.workDir)).filter((name) => name.startsWith(IMPORT_PREFIX));
      await Promise.all(stale.map((name) => rm(join(this.workDir, name), { force: true })));
    } catch (error) {
      throw fsFailure(action, error);
    }
    await this.journal.init();
    await this.secondary.init();
    await this.qemuImg(['--version'], 'qemu-img cannot run', new Map());
  }

  /** Path of a volume's file; the id is validated first so no crafted id can point outside the folder. */
  volumePath(volumeId: string): string {
    return join(this.volumesDir, `${checkedId(volumeId, 'volume')}.qcow2`);
  }

  async volumeExists(volumeId: string): Promise<boolean> {
    return fileExists(this.volumePath(volumeId));
  }

  async createVolume(
    volumeId: string,
    sizeGiB: number,
    source?: VolumeSource,
    read: ReadOptions = {},
  ): Promise<CreateVolumeResult> {
    const id = checkedId(volumeId, 'volume');
    const shared = read.sharedRead === true;
    const size = checkedSizeGiB(sizeGiB);
    const from = checkedSource(source);
    if (from.kind === 'blank') return this.createBlankVolume(id, size);
    if (from.kind === 'snapshot' && from.volumeId === id) {
      throw new DriverError(`Could not create volume ${id}: a volume cannot be created from a snapshot of itself`);
    }
    const action = `Could not create volume ${id} from ${describeSource(from)}`;
    // The source volume's lock is held while it is read, so no snapshot is taken or deleted meanwhile.
    const keys = from.kind === 'snapshot' ? [id, from.volumeId] : [id];
    return this.locks.runAll(keys, () =>
      this.buildVolume(id, size, action, async (partial, labels) => {
        if (from.kind === 'secondary') {
          const file = await this.secondary.resolveFile(from.path, action);
          labels.set(file, from.path).set(this.secondary.pathOf(from.path), from.path);
          // Templates and transfers are written by agents, but a full copy reads whatever the header names:
          // the same checks as an import, so a file placed by hand can never pull a host file into a volume.
          const info = await this.inspectPlainQcow2(file, from.path, action, 'secondary storage');
          checkFitsSize(action, info.virtualSizeBytes, size);
          await this.qemuImg(['convert', '-f', 'qcow2', '-O', 'qcow2', file, partial], action, labels);
        } else {
          await this.requireVolume(from.volumeId, action, 'the source volume does not exist on this host');
          await this.requireTag(from.volumeId, from.snapshotId, action, shared);
          const sourceFile = this.volumePath(from.volumeId);
          labels.set(sourceFile, `volume ${from.volumeId}`);
          const snapshot = `snapshot.name=${from.snapshotId}`;
          await this.qemuImg(
            ['convert', ...(shared ? ['-U'] : []), '-f', 'qcow2', '-O', 'qcow2', '-l', snapshot, sourceFile, partial],
            action,
            labels,
          );
        }
      }),
    );
  }

  /**
   * A new volume written by `write` into a temporary file, grown to `size` when smaller, then published (see
   * publishVolume); an existing volume of that size is alreadyExisted. The caller holds the volume's lock.
   */
  private async buildVolume(
    id: string,
    size: number,
    action: string,
    write: (partial: string, labels: Labels) => Promise<void>,
  ): Promise<CreateVolumeResult> {
    const finalPath = this.volumePath(id);
    // First, even when the image exists: a crash between publishing it (link) and removing the temporary name
    // leaves both, and a repeat of that job is the only one that will look.
    await this.removeLeftovers(this.volumesDir, `${id}.qcow2`, action, 'primary storage');
    if (await fileExists(finalPath)) {
      await this.checkSameSize(id, size);
      return { alreadyExisted: true };
    }
    const partial = `${finalPath}${PARTIAL}${randomUUID()}`;
    const labels = this.labels(id, partial);
    try {
      await write(partial, labels);
      const copied = await this.infoAt(partial, action, labels);
      checkFitsSize(action, copied.virtualSizeBytes, size);
      if (copied.virtualSizeBytes < size * GIB) {
        await this.qemuImg(['resize', '-q', '-f', 'qcow2', partial, `${size}G`], action, labels);
      }
      return await this.publishVolume(id, size, partial, finalPath, action);
    } finally {
      await rm(partial, { force: true });
    }
  }

  async destroyVolume(volumeId: string): Promise<RemoveResult> {
    const id = checkedId(volumeId, 'volume');
    const action = `Could not destroy volume ${id}`;
    return this.locks.run(id, async () => {
      await this.removeLeftovers(this.volumesDir, `${id}.qcow2`, action, 'primary storage');
      const removed = await removeFile(this.volumePath(id), action, 'primary storage');
      // A crash mid-write of a volume that is now gone leaves nothing to check.
      await this.journal.clear(id);
      return removed;
    });
  }

  async createSnapshot(
    volumeId: string,
    snapshotId: string,
    options: CreateSnapshotOptions = {},
  ): Promise<CreateSnapshotResult> {
    const id = checkedId(volumeId, 'volume');
    const tag = checkedId(snapshotId, 'snapshot');
    const action = `Could not create snapshot ${tag} of volume ${id}`;
    if (options.quiesce === true) {
      throw new DriverError(
        `${action}: quiesce was requested, but the qemu-img driver has no running guest to freeze ` +
          '(it works on the files of stopped instances): set AGENT_DRIVER=libvirt on KVM nodes',
      );
    }
    return this.locks.run(id, async () => {
      await this.requireVolume(id, action);
      // qemu-img accepts a second snapshot with the same tag, so a repeated delivery is caught here.
      if (countTag(await this.info(id, action), tag) > 0) {
        return { alreadyExisted: true, sizeBytes: null, quiesced: false };
      }
      await this.journal.around(id, 'snapshot -c', () =>
        this.qemuImg(['snapshot', '-q', '-c', tag, this.volumePath(id)], action, this.labels(id)),
      );
      if (countTag(await this.info(id, action), tag) === 0) {
        throw new DriverError(`${action}: qemu-img reported success but the snapshot is not in the image`);
      }
      return { alreadyExisted: false, sizeBytes: null, quiesced: false };
    });
  }

  async deleteSnapshot(volumeId: string, snapshotId: string): Promise<DeleteSnapshotResult> {
    const id = checkedId(volumeId, 'volume');
    const tag = checkedId(snapshotId, 'snapshot');
    const action = `Could not delete snapshot ${tag} of volume ${id}`;
    return this.locks.run(id, async () => {
      // A missing volume is an error, not "already gone": an unmounted storage must never read as a
      // successful delete (CloudStack #9730 reported deletes that never reached the disk).
      await this.requireVolume(id, action);
      const copies = countTag(await this.info(id, action), tag);
      if (copies === 0) return { alreadyGone: true };
      // `-d` removes one snapshot; an outside tool may have left several with our tag, and all must go.
      await this.journal.around(id, 'snapshot -d', async () => {
        for (let i = 0; i < copies; i++) {
          await this.qemuImg(['snapshot', '-q', '-d', tag, this.volumePath(id)], action, this.labels(id));
        }
      });
      if (countTag(await this.info(id, action), tag) > 0) {
        throw new DriverError(`${action}: qemu-img reported success but the snapshot is still in the image`);
      }
      return { alreadyGone: false };
    });
  }

  async revertSnapshot(volumeId: string, snapshotId: string): Promise<void> {
    const id = checkedId(volumeId, 'volume');
    const tag = checkedId(snapshotId, 'snapshot');
    const action = `Could not revert volume ${id} to snapshot ${tag}`;
    await this.locks.run(id, async () => {
      await this.requireVolume(id, action);
      await this.requireTag(id, tag, action);
      await this.journal.around(id, 'snapshot -a', () =>
        this.qemuImg(['snapshot', '-q', '-a', tag, this.volumePath(id)], action, this.labels(id)),
      );
    });
  }

  async exportSnapshot(
    volumeId: string,
    snapshotId: string,
    destination: string,
    read: ReadOptions = {},
  ): Promise<CopyResult> {
    const shared = read.sharedRead === true;
    const id = checkedId(volumeId, 'volume');
    const tag = checkedId(snapshotId, 'snapshot');
    const dest = checkedRelativePath(destination, 'destination');
    const action = `Could not export snapshot ${tag} of volume ${id} to ${dest}`;
    return this.locks.runAll([id, secondaryKey(dest)], async () => {
      const target = await this.secondary.targetPath(dest, action);
      const labels = this.labels(id).set(target, dest).set(this.secondary.pathOf(dest), dest);
      // Leftovers first, even when the copy exists (see createVolume).
      await this.removeLeftovers(dirname(target), basename(target), action, 'secondary storage');
      if (await fileExists(target, 'secondary storage')) {
        return { alreadyExisted: true, virtualSizeBytes: (await this.infoAt(target, action, labels)).virtualSizeBytes };
      }
      await this.requireVolume(id, action);
      await this.requireTag(id, tag, action, shared);
      const partial = `${target}${PARTIAL}${randomUUID()}`;
      labels.set(partial, `the new image at ${dest}`);
      try {
        // convert writes a standalone image: every cluster the snapshot sees, and no backing file.
        const snapshot = `snapshot.name=${tag}`;
        await this.qemuImg(
          [
            'convert',
            ...(shared ? ['-U'] : []),
            '-f',
            'qcow2',
            '-O',
            'qcow2',
            '-l',
            snapshot,
            this.volumePath(id),
            partial,
          ],
          action,
          labels,
        );
        const { virtualSizeBytes } = await this.infoAt(partial, action, labels);
        await syncPath(partial).catch((error: unknown) => {
          throw fsFailure(action, error, 'secondary storage');
        });
        if (!(await this.publish(partial, target, action, 'secondary storage'))) {
          return {
            alreadyExisted: true,
            virtualSizeBytes: (await this.infoAt(target, action, labels)).virtualSizeBytes,
          };
        }
        return { alreadyExisted: false, virtualSizeBytes };
      } finally {
        await rm(partial, { force: true });
      }
    });
  }

  async importTemplate(templateId: string, path: string): Promise<CopyResult> {
    const templateIdChecked = checkedId(templateId, 'template');
    const source = checkedRelativePath(path, 'template path');
    const destination = templatePath(templateIdChecked);
    const action = `Could not import template ${templateIdChecked} from ${source}`;
    return this.locks.run(secondaryKey(destination), async () => {
      const target = await this.secondary.targetPath(destination, action);
      const labels: Labels = new Map([
        [target, `template ${templateIdChecked}`],
        [this.secondary.pathOf(destination), `template ${templateIdChecked}`],
        [this.secondary.pathOf(source), source],
        [this.secondary.root, 'secondary storage'],
      ]);
      // Leftovers first, even when the template exists (see createVolume).
      await this.removeLeftovers(dirname(target), basename(target), action, 'secondary storage');
      if (await fileExists(target, 'secondary storage')) {
        return { alreadyExisted: true, virtualSizeBytes: (await this.infoAt(target, action, labels)).virtualSizeBytes };
      }
      const privateCopy = join(this.workDir, `${IMPORT_PREFIX}${randomUUID()}.qcow2`);
      const partial = `${target}${PARTIAL}${randomUUID()}`;
      labels.set(privateCopy, source).set(partial, `the new image of template ${templateIdChecked}`);
      try {
        // Inspect and convert a private copy: the shared file could change between the check and the use.
        await this.secondary.copyOut(source, privateCopy, action);
        const info = await this.inspectPlainQcow2(privateCopy, source, action, 'primary storage');
        await this.qemuImg(['convert', '-f', 'qcow2', '-O', 'qcow2', privateCopy, partial], action, labels);
        await syncPath(partial).catch((error: unknown) => {
          throw fsFailure(action, error, 'secondary storage');
        });
        if (!(await this.publish(partial, target, action, 'secondary storage'))) {
          return {
            alreadyExisted: true,
            virtualSizeBytes: (await this.infoAt(target, action, labels)).virtualSizeBytes,
          };
        }
        return { alreadyExisted: false, virtualSizeBytes: info.virtualSizeBytes };
      } finally {
        await rm(privateCopy, { force: true });
        await rm(partial, { force: true });
      }
    });
  }

  async deleteTemplate(templateId: string): Promise<RemoveResult> {
    const id = checkedId(templateId, 'template');
    const relativePath = templatePath(id);
    const action = `Could not delete template ${id}`;
    return this.locks.run(secondaryKey(relativePath), async () => {
      const target = await this.secondary.targetPath(relativePath, action, false);
      await this.removeLeftovers(dirname(target), basename(target), action, 'secondary storage');
      return removeFile(target, action, 'secondary storage');
    });
  }

  async removeTransfer(path: string): Promise<RemoveResult> {
    const relativePath = checkedRelativePath(path, 'transfer path');
    if (!relativePath.startsWith(TRANSFERS_FOLDER)) {
      throw new DriverError(`Refused to remove ${relativePath}: only files under ${TRANSFERS_FOLDER} are removed`);
    }
    const action = `Could not remove ${relativePath} from secondary storage`;
    return this.locks.run(secondaryKey(relativePath), async () => {
      const target = await this.secondary.targetPath(relativePath, action, false);
      return removeFile(target, action, 'secondary storage');
    });
  }

  async listSnapshots(volumeId: string, read: ReadOptions = {}): Promise<VolumeSnapshot[]> {
    const id = checkedId(volumeId, 'volume');
    const action = `Could not list the snapshots of volume ${id}`;
    return this.locks.run(id, async () => {
      await this.requireVolume(id, action);
      const info = await this.info(id, action, read.sharedRead === true);
      return info.snapshots.map(({ tag, createdAt }) => ({ tag, createdAt }));
    });
  }

  /**
   * A backup of a stopped instance: a plain copy of every volume's active layer (its internal snapshots are not
   * copied). A complete backup found there already (a repeated delivery) is alreadyExisted.
   */
  async createBackup(payload: CreateBackupPayload): Promise<CreateBackupResult> {
    const checked = checkedCreateBackup(payload);
    return this.locks.run(backupKey(checked.backupId), async () => {
      const prepared = await this.prepareBackup(checked);
      if (prepared.existing) return this.existingBackup(prepared, false);
      const sources = checked.volumes.map(({ volumeId }) => ({
        volumeId,
        file: this.volumePath(volumeId),
        shared: false,
      }));
      const written = await this.writeBackup(prepared, sources, { instanceWasRunning: false, quiesced: false });
      return {
        backupId: checked.backupId,
        alreadyExisted: false,
        ...written,
        guestPausedMs: null,
        instanceRunning: false,
      };
    });
  }

  /** The storage probed and the folder made (see QemuImgBackups.prepare): before any guest is paused. */
  prepareBackup(checked: CreateBackupPayload): Promise<PreparedBackup> {
    return this.backups.prepare(checked);
  }

  /** The result of a backup that was complete already; nothing is written. */
  async existingBackup(prepared: PreparedBackup, instanceRunning: boolean): Promise<CreateBackupResult> {
    const manifest = prepared.existing as BackupManifest;
    const sizeBytes = await this.backups.sizeOf(prepared);
    return {
      backupId: manifest.backupId,
      alreadyExisted: true,
      manifest,
      sizeBytes,
      guestPausedMs: null,
      instanceRunning,
    };
  }

  /** Writes a prepared backup under the volumes' locks, so no snapshot of theirs is taken or removed meanwhile. */
  async writeBackup(
    prepared: PreparedBackup,
    sources: readonly BackupSource[],
    facts: BackupFacts,
  ): Promise<{ manifest: BackupManifest; sizeBytes: number }> {
    const ids = prepared.payload.volumes.map((v) => v.volumeId);
    return this.locks.runAll(ids, () => this.backups.write(prepared, sources, facts));
  }

  /** Removes the folder of a prepared backup that will not be written (its guest could not be paused). */
  discardBackup(prepared: PreparedBackup): Promise<void> {
    return this.backups.discard(prepared);
  }

  /**
   * Restores a backup: every file of its chain verified first (nothing is written on a mismatch), then each target
   * written: a new volume built like createVolume (grown to its size), or, with `overwrite`, the existing volume's
   * active layer rewritten in place with `convert -n`, which keeps its internal snapshots (the safety snapshot).
   */
  async restoreBackup(payload: RestoreBackupPayload): Promise<RestoreBackupResult> {
    const checked = checkedRestoreBackup(payload);
    const backupId = checked.chain[0]?.backupId ?? '';
    const action = `Could not restore backup ${backupId}`;
    const ids = checked.targets.map((t) => t.volumeId);
    return this.locks.runAll(ids, async () => {
      if (checked.overwrite) {
        for (const id of ids) await this.requireVolume(id, action, `volume ${id} does not exist on this host`);
      }
      const { sources, verifiedFiles } = await this.backups.verifyChain(checked, action);
      for (const target of checked.targets) {
        const source = sources.get(target.sourceVolumeId) as VerifiedSource;
        checkFitsSize(action, source.virtualSizeBytes, target.sizeGiB);
        if (checked.overwrite) await this.restoreInPlace(target.volumeId, target.sizeGiB, source, action);
        else
          await this.buildVolume(target.volumeId, target.sizeGiB, action, async (partial, labels) => {
            for (const [path, label] of source.labels) labels.set(path, label);
            await this.qemuImg(['convert', '-f', 'qcow2', '-O', 'qcow2', source.file, partial], action, labels);
          });
      }
      return { restored: ids, verifiedFiles };
    });
  }

  /** Removes a backup's folder (only the names an agent writes); a missing one is alreadyGone. */
  async deleteBackup(payload: DeleteBackupPayload): Promise<DeleteBackupResult> {
    const checked = checkedDeleteBackup(payload);
    return this.locks.run(backupKey(checked.backupId), () => this.backups.delete(checked));
  }

  /**
   * The volume's active layer rewritten from the backup (`convert -n`: the file stays, with its snapshot table),
   * grown first when the backup's volume was larger. Journaled: a crash mid-write is checked at the next start.
   */
  private async restoreInPlace(id: string, sizeGiB: number, source: VerifiedSource, action: string): Promise<void> {
    const file = this.volumePath(id);
    const labels = this.labels(id);
    for (const [path, label] of source.labels) labels.set(path, label);
    await this.journal.around(id, 'restore', async () => {
      if ((await this.info(id, action)).virtualSizeBytes < sizeGiB * GIB) {
        await this.qemuImg(['resize', '-q', '-f', 'qcow2', file, `${sizeGiB}G`], action, labels);
      }
      await this.qemuImg(['convert', '-n', '-f', 'qcow2', '-O', 'qcow2', source.file, file], action, labels);
    });
  }

  /**
   * Volumes (`volumes/<volumeId>.qcow2`), templates (`templates/<templateId>.qcow2`) and transfers (any file
   * under `transfers/`), one image at a time under that file's lock, so no operation of this agent is seen
   * half done. Not listed: temporary files (`*.partial-*`), names outside the layout (nothing a repair could
   * remove), anything that is not a regular file. `heldVolumeIds`: volumes a running domain has as disks (the
   * libvirt driver knows); any other image is found held by its qcow2 lock, and is then read with -U.
   */
  async inventory(
    options: InventoryOptions,
    heldVolumeIds: ReadonlySet<string> = new Set(),
  ): Promise<StorageInventory> {
    const takenAt = new Date().toISOString();
    const timeoutMs = options.checkTimeoutMs;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new DriverError(`Invalid check timeout ${String(timeoutMs)} ms: expected a positive number`);
    }
    const action = 'Could not list the storage';
    const files = [...(await this.volumeFiles(heldVolumeIds, action)), ...(await this.secondaryFiles(action))];
    const images: InventoryImage[] = [];
    for (const image of files) {
      const key = image.kind === 'volume' ? image.id : secondaryKey(image.relativePath);
      const described = await this.locks.run(key, () => this.describeImage(image, timeoutMs, action));
      if (described) images.push(described);
    }
    return { takenAt, images };
  }

  /**
   * Each journaled image (a qemu-img write of its metadata never finished): clean → forgotten; leaked clusters
   * on an image no process holds → `qemu-img check -r leaks`, checked again (repaired, or damaged); corrupt or
   * unreadable → damaged. A held image with leaks, or one not checked in time, stays journaled (deferred).
   */
  async checkInterruptedImages(options: InterruptedImagesOptions): Promise<InterruptedImage[]> {
    const deadline = Date.now() + options.timeoutMs;
    const found: InterruptedImage[] = [];
    for (const id of await this.journal.list()) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        found.push(deferred(id, { status: 'timeout' }, 'not checked: the start-up check ran out of time'));
        continue;
      }
      const result = await this.locks.run(id, () => this.recheck(id, remaining));
      if (result) found.push(result);
    }
    return found;
  }

  private async recheck(id: string, timeoutMs: number): Promise<InterruptedImage | null> {
    const file = this.volumePath(id);
    if (!(await fileExists(file))) {
      await this.journal.clear(id);
      return null;
    }
    const labels = this.labels(id);
    const decided = async (result: InterruptedImage) => {
      await this.journal.clear(id);
      return result;
    };
    // A process that holds the image now is, on a host where only agents write images, the dead agent's own
    // qemu-img child: killed alone (OOM, kill -9 of its pid), an agent leaves it to finish its one command, and
    // read with -U meanwhile its half-written tables would look corrupt.
    if (!(await this.heldUntilReleased(file, Math.min(timeoutMs, HELD_IMAGE_WAIT_MS)))) {
      return deferred(id, { status: 'skipped' }, 'another process still holds the image: checked at the next start');
    }
    const first = await this.inspector.check(file, { timeoutMs, shared: false, labels });
    const { check } = first;
    switch (check.status) {
      case 'clean':
      case 'skipped':
        return decided({ volumeId: id, status: 'clean', check, message: 'qemu-img check found no errors' });
      case 'timeout':
        return deferred(id, check, check.message ?? 'qemu-img check ran out of time');
      case 'corrupt':
        if (first.recountable) return decided(await this.repairRecountable(id, check, timeoutMs));
        return decided({ volumeId: id, status: 'damaged', check, message: check.message ?? check.status });
      case 'unreadable':
        return decided({ volumeId: id, status: 'damaged', check, message: check.message ?? check.status });
      case 'leaks':
        break;
    }
    const leaks = check.leakedClusters;
    if (first.held) {
      return deferred(id, check, `${leaks ?? 'some'} leaked cluster(s), but another process holds the image`);
    }
    try {
      await this.inspector.repairLeaks(file, timeoutMs, labels);
    } catch (error) {
      if (!(error instanceof DriverError)) throw error;
      return decided({ volumeId: id, status: 'damaged', check, leakedClusters: leaks, message: error.message });
    }
    const after = await this.inspector.check(file, { timeoutMs, shared: false, labels });
    if (after.check.status === 'timeout')
      return deferred(id, after.check, 'qemu-img check ran out of time after the repair');
    if (after.check.status === 'clean') {
      const message = `${leaks ?? 'some'} leaked cluster(s) repaired with qemu-img check -r leaks`;
      return decided({ volumeId: id, status: 'repaired', check: after.check, leakedClusters: leaks, message });
    }
    const why = after.check.message ?? after.check.status;
    return decided({
      volumeId: id,
      status: 'damaged',
      check: after.check,
      leakedClusters: leaks,
      message: `still not clean after qemu-img check -r leaks: ${why}`,
    });
  }

  /**
   * A journaled image whose only errors are counts or COPIED flags that disagree with the references (a snapshot
   * create cut short), recounted before anything writes to it: a write through a wrong count or flag would
   * overwrite a cluster a snapshot still shares.
   */
  private async repairRecountable(id: string, before: ImageCheck, timeoutMs: number): Promise<InterruptedImage> {
    const file = this.volumePath(id);
    const labels = this.labels(id);
    try {
      await this.inspector.repairRecountable(file, timeoutMs, labels);
    } catch (error) {
      if (!(error instanceof DriverError)) throw error;
      return { volumeId: id, status: 'damaged', check: before, message: error.message };
    }
    const after = (await this.inspector.check(file, { timeoutMs, shared: false, labels })).check;
    if (after.status !== 'clean') {
      const why = after.message ?? after.status;
      return {
        volumeId: id,
        status: 'damaged',
        check: after,
        message: `still not clean after qemu-img check -r all: ${why}`,
      };
    }
    return {
      volumeId: id,
      status: 'repaired',
      check: after,
      message:
        `${before.corruptions ?? 'some'} refcount(s) or COPIED flag(s) disagreeing with the references and ` +
        `${before.leakedClusters ?? 0} leaked cluster(s) (a snapshot create cut short): recounted with qemu-img check -r all`,
    };
  }

  /** Waits (polling, at most `waitMs`) until no other process holds the image; false if one still does. */
  private async heldUntilReleased(file: string, waitMs: number): Promise<boolean> {
    const deadline = Date.now() + waitMs;
    while (await this.inspector.isHeld(file, Math.max(1000, deadline - Date.now()))) {
      if (Date.now() + HELD_IMAGE_POLL_MS > deadline) return false;
      await delay(HELD_IMAGE_POLL_MS);
    }
    return true;
  }

  private async describeImage(image: ImageFile, timeoutMs: number, action: string): Promise<InventoryImage | null> {
    try {
      return await this.inspector.describe(image, timeoutMs);
    } catch (error) {
      // Removed between the listing and now (a delete ran first): nothing to report.
      if (errorCode(error) === 'ENOENT') return null;
      if (error instanceof DriverError) throw error;
      throw fsFailure(action, error, image.kind === 'volume' ? 'primary storage' : 'secondary storage');
    }
  }

  private async volumeFiles(held: ReadonlySet<string>, action: string): Promise<ImageFile[]> {
    const names = await listFolder(this.volumesDir, action, 'primary storage');
    return names.flatMap((name) => {
      const id = layoutId(name);
      if (id === null) return [];
      const file = join(this.volumesDir, name);
      return [{ kind: 'volume' as const, id, file, relativePath: `volumes/${name}`, inUse: held.has(id) }];
    });
  }

  /** The agent-written folders of secondary storage. Backups, once they exist, get their folder here. */
  private async secondaryFiles(action: string): Promise<ImageFile[]> {
    const found: ImageFile[] = [];
    for (const { folder, kind, idOf } of SECONDARY_IMAGE_FOLDERS) {
      const realFolder = await this.secondary.realFolder(folder, action);
      if (realFolder === null) continue;
      for (const name of await listFolder(realFolder, action, 'secondary storage')) {
        const id = idOf(name);
        if (id === null) continue;
        found.push({ kind, id, file: join(realFolder, name), relativePath: `${folder}/${name}`, inUse: false });
      }
    }
    return found;
  }

  /** Built under a temporary name and published with link() (see buildVolume and publish). */
  private async createBlankVolume(id: string, size: number): Promise<CreateVolumeResult> {
    const action = `Could not create volume ${id}`;
    return this.locks.run(id, () =>
      this.buildVolume(id, size, action, async (partial, labels) => {
        await this.qemuImg(['create', '-q', '-f', 'qcow2', partial, `${size}G`], action, labels);
      }),
    );
  }

  /**
   * Refuses anything but a plain qcow2: the header is read by this code first (no file name in it is followed),
   * then `qemu-img info` with the format pinned, so a raw file can never be probed as something else.
   * Messages name the file by `label` (its relative path) and never repeat a file name found in the header.
   */
  private async inspectPlainQcow2(
    file: string,
    label: string,
    action: string,
    storage: StorageName,
  ): Promise<QcowImageInfo> {
    const header = parseQcow2Header(await readStart(file, action, storage));
    const refuse = (why: string) => new DriverError(`${action}: ${label} ${why}; only a standalone qcow2 is accepted`);
    if (!header) throw refuse('is not a qcow2 image');
    if (header.hasBackingFile) throw refuse('has a backing file');
    if (header.hasExternalDataFile) throw refuse('has an external data file');
    let info: QcowImageInfo;
    try {
      info = await this.infoAt(file, action, new Map([[file, label]]));
    } catch (error) {
      if (error instanceof DriverError)
        throw refuse(`cannot be read as qcow2 (${error.message.slice(action.length + 2)})`);
      throw error;
    }
    if (info.format !== 'qcow2') throw refuse('is not a qcow2 image');
    if (info.backingFile !== null) throw refuse('has a backing file');
    if (info.dataFile !== null) throw refuse('has an external data file');
    return info;
  }

  private async info(id: string, action: string, shared = false): Promise<QcowImageInfo> {
    return this.infoAt(this.volumePath(id), action, this.labels(id), shared);
  }

  private async infoAt(
    file: string,
    action: string,
    labels: ReadonlyMap<string, string>,
    shared = false,
  ): Promise<QcowImageInfo> {
    const args = ['info', ...(shared ? ['-U'] : []), '-f', 'qcow2', '--output=json', file];
    const stdout = await this.qemuImg(args, action, labels);
    try {
      return parseQemuImgInfo(stdout);
    } catch (error) {
      throw new DriverError(`${action}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /**
   * Puts a finished volume image (`partial`, flushed here) under its final name; a volume that appeared there
   * meanwhile (a repeated delivery) is success if it has the asked size.
   */
  private async publishVolume(
    id: string,
    size: number,
    partial: string,
    finalPath: string,
    action: string,
  ): Promise<CreateVolumeResult> {
    await syncPath(partial).catch((error: unknown) => {
      throw fsFailure(action, error);
    });
    if (await this.publish(partial, finalPath, action, 'primary storage')) return { alreadyExisted: false };
    await this.checkSameSize(id, size);
    return { alreadyExisted: true };
  }

  /** An existing file is the same volume only if it is a qcow2 of the requested size; otherwise ids collided. */
  private async checkSameSize(id: string, sizeGiB: number): Promise<void> {
    const info = await this.info(id, `Volume ${id} exists but cannot be read`);
    if (info.virtualSizeBytes !== sizeGiB * GIB) {
      const actual = formatGiB(info.virtualSizeBytes);
      throw new DriverError(`Volume ${id} already exists with a size of ${actual} GiB, not ${sizeGiB} GiB`);
    }
  }

  private async requireVolume(
    id: string,
    action: string,
    why = 'the volume does not exist on this host',
  ): Promise<void> {
    if (!(await fileExists(this.volumePath(id)))) throw new DriverError(`${action}: ${why}`);
  }

  private async requireTag(id: string, tag: string, action: string, shared = false): Promise<void> {
    if (countTag(await this.info(id, action, shared), tag) === 0) throw snapshotMissing(action, id, tag);
  }

  /**
   * Publishes a complete temporary file under its final name. link() never replaces a file that appeared
   * meanwhile (false is returned then); a file system without hard links falls back to rename() after a check,
   * which is safe under this agent's lock of that file. The folder is synced so the name survives a power cut.
   */
  private async publish(partial: string, finalPath: string, action: string, storage: StorageName): Promise<boolean> {
    try {
      await link(partial, finalPath);
    } catch (error) {
      const code = errorCode(error);
      if (code === 'EEXIST') return false;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw fsFailure(action, error, storage);
      if (await fileExists(finalPath, storage)) return false;
      await rename(partial, finalPath).catch((renameError: unknown) => {
        throw fsFailure(action, renameError, storage);
      });
    }
    await syncPath(dirname(finalPath)).catch(() => undefined);
    return true;
  }

  /** Temporary files of an earlier attempt that crashed before it could clean up. */
  private async removeLeftovers(folder: string, fileName: string, action: string, storage: StorageName) {
    try {
      const prefix = `${fileName}${PARTIAL}`;
      const names = (await readdir(folder)).filter((name) => name.startsWith(prefix));
      await Promise.all(names.map((name) => rm(join(folder, name), { force: true })));
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return;
      throw fsFailure(action, error, storage);
    }
  }

  /** Host paths in qemu-img's messages are replaced by these labels before they leave the agent. */
  private labels(id: string, partial?: string): Labels {
    const labels: Labels = new Map([
      [this.volumePath(id), `volume ${id}`],
      [this.volumesDir, 'primary storage'],
      [this.secondary.root, 'secondary storage'],
    ]);
    if (partial) labels.set(partial, `the new image of volume ${id}`);
    return labels;
  }

  private async qemuImg(args: string[], action: string, labels: ReadonlyMap<string, string>): Promise<string> {
    try {
      return await this.runner.run(args);
    } catch (error) {
      if (!(error instanceof QemuImgProcessError)) throw error;
      const failure = {
        stderr: error.stderr,
        exitCode: error.exitCode,
        signal: error.signal,
        timedOut: error.timedOut,
        notInstalled: error.notInstalled,
        timeoutSeconds: this.runner.timeoutSeconds,
      };
      const described = describeQemuImgFailure(failure, labels);
      throw new DriverError(`${action}: ${described.message}`, described.retryable, described.reason);
    }
  }
}

/**
 * Folders of secondary storage the inventory lists, and how a file name there names its owner (null: not one
 * of ours, not listed). A backups folder joins this table when backups exist.
 */
const SECONDARY_IMAGE_FOLDERS: readonly {
  folder: string;
  kind: ImageFile['kind'];
  idOf: (name: string) => string | null;
}[] = [
  { folder: 'templates', kind: 'template', idOf: layoutId },
  {
    folder: 'transfers',
    kind: 'transfer',
    idOf: (name) => (name.includes(PARTIAL) ? null : name.replace(/\.qcow2$/, '')),
  },
];

const LAYOUT_NAME = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.qcow2$/;

/** The id in a `<uuid>.qcow2` name (volumes, templates); null for anything else, temporary files included. */
function layoutId(name: string): string | null {
  return LAYOUT_NAME.exec(name)?.[1] ?? null;
}

function deferred(volumeId: string, check: InterruptedImage['check'], message: string): InterruptedImage {
  return { volumeId, status: 'deferred', check, message };
}

/** Names of the regular files in a folder; a missing folder has none. */
async function listFolder(folder: string, action: string, storage: StorageName): Promise<string[]> {
  try {
    const entries = await readdir(folder, { withFileTypes: true });
    return entries
      .filter((entry) => entry.isFile())
      .map((entry) => entry.name)
      .sort();
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return [];
    throw fsFailure(action, error, storage);
  }
}

function countTag(info: QcowImageInfo, tag: string): number {
  return info.snapshots.filter((snapshot) => snapshot.tag === tag).length;
}

async function fileExists(path: string, storage: StorageName = 'primary storage'): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return false;
    throw fsFailure(`Could not read ${storage}`, error, storage);
  }
}

/** Unlinks a file; a missing one is alreadyGone. A folder or a link under that name is not removed. */
async function removeFile(path: string, action: string, storage: StorageName): Promise<RemoveResult> {
  try {
    const found = await lstat(path);
    if (!found.isFile()) throw new DriverError(`${action}: the name is taken by something that is not a file`);
    await unlink(path);
    return { alreadyGone: false };
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return { alreadyGone: true };
    if (error instanceof DriverError) throw error;
    throw fsFailure(action, error, storage);
  }
}

/** The first bytes of a file, to read its header. */
async function readStart(path: string, action: string, storage: StorageName): Promise<Uint8Array> {
  return readHeaderBytes(path).catch((error: unknown) => {
    throw fsFailure(action, error, storage);
  });
}
