import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  agentSecondaryFolderOf,
  type BackupLocation,
  type BackupManifest,
  type CreateBackupPayload,
  type CreateBackupResult,
  type DeleteBackupPayload,
  type DeleteBackupResult,
  type RestoreBackupPayload,
  type RestoreBackupResult,
  type ImageCheck,
  type InstanceDisks,
  type StartInstancePayload,
  type InventoryImage,
  type InventoryTag,
  JobFailureReason,
  type StorageInventory,
  templatePath,
  type VolumeSource,
} from '@snapdeck/contracts';
import {
  checkedId,
  checkedInstance,
  checkedRelativePath,
  checkedSizeGiB,
  checkedSource,
  checkFitsSize,
  describeSource,
  GIB,
  TRANSFERS_FOLDER,
} from '../driver-input.js';
import { checkedCreateBackup, checkedDeleteBackup, checkedRestoreBackup } from '../backups/backup-input.js';
import {
  type CopyResult,
  type CreateSnapshotOptions,
  type CreateSnapshotResult,
  type CreateVolumeResult,
  type DeleteSnapshotResult,
  DriverError,
  type InterruptedImage,
  type InterruptedImagesOptions,
  type RemoveResult,
  snapshotMissing,
  type VolumeContext,
  VolumeDriver,
  type VolumeSnapshot,
} from '../volume-driver.js';
import {
  type CreateInstanceSnapshotOptions,
  type CreateInstanceSnapshotResult,
  InstanceDriver,
  type RevertInstanceSnapshotResult,
  type StartInstanceResult,
  type StopInstanceResult,
} from '../instance-driver.js';

export interface SimulatorDriverOptions {
  /** SIMULATOR_LATENCY_MS: how long every operation takes. */
  latencyMs: number;
  /** SIMULATOR_FAILURE_RATE: share of operations, from 0 to 1, that fail. */
  failureRate: number;
  /** A number in [0, 1); injectable so tests decide which operations fail. */
  random?: () => number;
  /** Injectable so tests can observe the latency without waiting for it. */
  delay?: (ms: number) => Promise<void>;
  now?: () => Date;
  /**
   * Whether a simulated guest agent answers a quiesce (freeze) request; true by default. `setGuestAgent`
   * changes it for one instance.
   */
  guestAgent?: boolean;
}

/** A simulated domain: what libvirt would keep for an instance. */
interface SimulatedInstance {
  running: boolean;
  /** The disks it was started with, in order. */
  volumeIds: string[];
  instanceSnapshots: Map<string, SimulatedInstanceSnapshot>;
  /** Overrides the driver-wide `guestAgent` option. */
  guestAgent?: boolean;
}

interface SimulatedInstanceSnapshot {
  withMemory: boolean;
  createdAt: Date;
  /** Each disk's data generation at the point. */
  generations: Map<string, number>;
}

interface SimulatedSnapshot {
  createdAt: Date;
  /** The volume's data generation when the snapshot was taken; a revert brings it back. */
  generation: number;
}

interface SimulatedVolume {
  sizeGiB: number;
  snapshots: Map<string, SimulatedSnapshot>;
  /**
   * Stands for the volume's data: a new number whenever the data changes (`simulateWrite`), so that tests can
   * see a revert or a copy bring back the data of the snapshot it came from.
   */
  generation: number;
  /** The simulated file's mtime: the inventory reports it (the api ignores files younger than its grace period). */
  modifiedAt: Date;
  /** What the inventory reports as its `qemu-img check` (`skipped` unless a test set it: simulateImageCheck). */
  check?: ImageCheck;
}

/** A qcow2 file in simulated secondary storage. */
export interface SimulatedFile {
  virtualSizeBytes: number;
  /** The data generation it holds, as in SimulatedVolume. */
  generation: number;
  /** Its mtime, for the inventory; when it was placed, if known. */
  modifiedAt?: Date;
}

/** A simulated backup: its manifest, and the data generation of each volume it holds. */
interface SimulatedBackup {
  manifest: BackupManifest;
  generations: Map<string, number>;
}

/** Saved memory the inventory reports for a simulated recovery point with memory (on its ROOT disk). */
const SIMULATED_MEMORY_BYTES = 512 * 1024 * 1024;
const VOLUME_FILE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * No disks: state lives in memory and is lost on restart. For scale tests and demos of the api, where
 * hundreds of hosts and thousands of snapshots must not need real images. Behaves like the qemu-img driver
 * (same validation, same idempotency) so the api cannot tell them apart except by speed.
 *
 * Secondary storage is a Map keyed by relative path, private to this driver (so not shared between
 * simulated hosts). The simulator cannot inspect real files: IMPORT_TEMPLATE accepts any path present in that
 * map — written by an export, or placed with `putSecondaryFile` — and refuses any other path, with the same
 * lexical path checks as the qemu-img driver.
 */
export class SimulatorDriver extends VolumeDriver implements InstanceDriver {
  readonly name = 'simulator' as const;
  private readonly volumes = new Map<string, SimulatedVolume>();
  private readonly secondaryFiles = new Map<string, SimulatedFile>();
  private readonly instances = new Map<string, SimulatedInstance>();
  /** Backups by storage and folder (`secondary:backups/<org>/<backup>`), private to this driver like its files. */
  private readonly backups = new Map<string, SimulatedBackup>();
  private readonly random: () => number;
  private readonly delay: (ms: number) => Promise<void>;
  private readonly now: () => Date;
  private nextGeneration = 1;

  constructor(private readonly options: SimulatorDriverOptions) {
    super();
    this.random = options.random ?? Math.random;
    this.delay = options.delay ?? ((ms) => sleep(ms));
    this.now = options.now ?? (() => new Date());
  }

  async init(): Promise<void> {
    // Nothing to check: the simulator needs no tools and no storage.
  }

  async volumeExists(volumeId: string): Promise<boolean> {
    const id = checkedId(volumeId, 'volume');
    await this.operate(`look up volume ${id}`);
    return this.volumes.has(id);
  }

  async createVolume(volumeId: string, sizeGiB: number, source?: VolumeSource): Promise<CreateVolumeResult> {
    const id = checkedId(volumeId, 'volume');
    const size = checkedSizeGiB(sizeGiB);
    const from = checkedSource(source);
    if (from.kind === 'snapshot' && from.volumeId === id) {
      throw new DriverError(`Could not create volume ${id}: a volume cannot be created from a snapshot of itself`);
    }
    await this.operate(`create volume ${id}`);
    // Everything after the await is synchronous, so two operations on one volume cannot interleave.
    const existing = this.volumes.get(id);
    if (existing) {
      if (existing.sizeGiB !== size) {
        throw new DriverError(`Volume ${id} already exists with a size of ${existing.sizeGiB} GiB, not ${size} GiB`);
      }
      return { alreadyExisted: true };
    }
    const action = `Could not create volume ${id} from ${describeSource(from)}`;
    let generation: number;
    switch (from.kind) {
      case 'blank':
        generation = this.nextGeneration++;
        break;
      case 'secondary': {
        const file = this.requireFile(from.path, action);
        checkFitsSize(action, file.virtualSizeBytes, size);
        generation = file.generation;
        break;
      }
      case 'snapshot': {
        const volume = this.requireVolume(from.volumeId, action, 'the source volume does not exist on this host');
        const snapshot = this.requireSnapshot(volume, from.volumeId, from.snapshotId, action);
        checkFitsSize(action, volume.sizeGiB * GIB, size);
        generation = snapshot.generation;
        break;
      }
    }
    this.volumes.set(id, { sizeGiB: size, snapshots: new Map(), generation, modifiedAt: this.now() });
    return { alreadyExisted: false };
  }

  async destroyVolume(volumeId: string): Promise<RemoveResult> {
    const id = checkedId(volumeId, 'volume');
    await this.operate(`destroy volume ${id}`);
    const runningIn = this.runningInstanceOf(id);
    if (runningIn) {
      throw new DriverError(
        `Could not destroy volume ${id}: it is a disk of running instance ${runningIn}; stop it first`,
      );
    }
    return { alreadyGone: !this.volumes.delete(id) };
  }

  /**
   * As libvirt would: a running instance's disk is snapshotted live (the same snapshot), quiesced through the
   * simulated guest agent when asked; a stopped one's offline, where quiesce has nothing to freeze.
   */
  async createSnapshot(
    volumeId: string,
    snapshotId: string,
    options: CreateSnapshotOptions = {},
  ): Promise<CreateSnapshotResult> {
    const id = checkedId(volumeId, 'volume');
    const tag = checkedId(snapshotId, 'snapshot');
    if (options.instanceId !== undefined) checkedId(options.instanceId, 'instance');
    await this.operate(`create snapshot ${tag} of volume ${id}`);
    const action = `Could not create snapshot ${tag} of volume ${id}`;
    const volume = this.requireVolume(id, action);
    if (volume.snapshots.has(tag)) return { alreadyExisted: true, sizeBytes: null, quiesced: false };
    const runningIn = this.runningInstanceOf(id);
    const quiesced = options.quiesce === true && runningIn !== undefined;
    if (quiesced) this.freeze(runningIn, action);
    volume.snapshots.set(tag, { createdAt: this.now(), generation: volume.generation });
    volume.modifiedAt = this.now();
    return { alreadyExisted: false, sizeBytes: null, quiesced };
  }

  async deleteSnapshot(volumeId: string, snapshotId: string, _context?: VolumeContext): Promise<DeleteSnapshotResult> {
    const id = checkedId(volumeId, 'volume');
    const tag = checkedId(snapshotId, 'snapshot');
    await this.operate(`delete snapshot ${tag} of volume ${id}`);
    const volume = this.requireVolume(id, `Could not delete snapshot ${tag} of volume ${id}`);
    const alreadyGone = !volume.snapshots.delete(tag);
    if (!alreadyGone) volume.modifiedAt = this.now();
    return { alreadyGone };
  }

  async revertSnapshot(volumeId: string, snapshotId: string): Promise<void> {
    const id = checkedId(volumeId, 'volume');
    const tag = checkedId(snapshotId, 'snapshot');
    await this.operate(`revert volume ${id} to snapshot ${tag}`);
    const action = `Could not revert volume ${id} to snapshot ${tag}`;
    const volume = this.requireVolume(id, action);
    const runningIn = this.runningInstanceOf(id);
    if (runningIn) throw new DriverError(`${action}: it is a disk of running instance ${runningIn}; stop it first`);
    volume.generation = this.requireSnapshot(volume, id, tag, action).generation;
  }

  async exportSnapshot(volumeId: string, snapshotId: string, destination: string): Promise<CopyResult> {
    const id = checkedId(volumeId, 'volume');
    const tag = checkedId(snapshotId, 'snapshot');
    const dest = checkedRelativePath(destination, 'destination');
    await this.operate(`export snapshot ${tag} of volume ${id}`);
    const existing = this.secondaryFiles.get(dest);
    if (existing) return { alreadyExisted: true, virtualSizeBytes: existing.virtualSizeBytes };
    const action = `Could not export snapshot ${tag} of volume ${id} to ${dest}`;
    const volume = this.requireVolume(id, action);
    const snapshot = this.requireSnapshot(volume, id, tag, action);
    const file = { virtualSizeBytes: volume.sizeGiB * GIB, generation: snapshot.generation, modifiedAt: this.now() };
    this.secondaryFiles.set(dest, file);
    return { alreadyExisted: false, virtualSizeBytes: file.virtualSizeBytes };
  }

  async importTemplate(templateId: string, path: string): Promise<CopyResult> {
    const id = checkedId(templateId, 'template');
    const source = checkedRelativePath(path, 'template path');
    const folder = agentSecondaryFolderOf(source);
    if (folder) {
      throw new DriverError(
        `Could not import template ${id} from ${source}: ${source} is under ${folder}/, which the agents write; ` +
          'an image to import must be placed elsewhere in secondary storage',
      );
    }
    await this.operate(`import template ${id}`);
    const destination = templatePath(id);
    const existing = this.secondaryFiles.get(destination);
    if (existing) return { alreadyExisted: true, virtualSizeBytes: existing.virtualSizeBytes };
    const file = this.secondaryFiles.get(source);
    if (!file) {
      throw new DriverError(
        `Could not import template ${id} from ${source}: ${source} does not exist in secondary storage ` +
          '(simulator driver: only files it exported, or placed with putSecondaryFile, exist)',
      );
    }
    this.secondaryFiles.set(destination, { ...file, modifiedAt: this.now() });
    return { alreadyExisted: false, virtualSizeBytes: file.virtualSizeBytes };
  }

  async deleteTemplate(templateId: string): Promise<RemoveResult> {
    const id = checkedId(templateId, 'template');
    await this.operate(`delete template ${id}`);
    return { alreadyGone: !this.secondaryFiles.delete(templatePath(id)) };
  }

  async removeTransfer(path: string): Promise<RemoveResult> {
    const relativePath = checkedRelativePath(path, 'transfer path');
    if (!relativePath.startsWith(TRANSFERS_FOLDER)) {
      throw new DriverError(`Refused to remove ${relativePath}: only files under ${TRANSFERS_FOLDER} are removed`);
    }
    await this.operate(`remove ${relativePath}`);
    return { alreadyGone: !this.secondaryFiles.delete(relativePath) };
  }

  async listSnapshots(volumeId: string): Promise<VolumeSnapshot[]> {
    const id = checkedId(volumeId, 'volume');
    await this.operate(`list the snapshots of volume ${id}`);
    const volume = this.requireVolume(id, `Could not list the snapshots of volume ${id}`);
    return [...volume.snapshots].map(([tag, { createdAt }]) => ({ tag, createdAt }));
  }

  /**
   * Every simulated volume with its tags (its snapshots, and the recovery points it is a disk of, as the tag
   * in each disk of a real instance), and the template and transfer files; checks are `skipped` (there is no
   * image to check) unless a test set one with simulateImageCheck. Sizes on disk are 0.
   */
  async inventory(): Promise<StorageInventory> {
    await this.operate('list the storage');
    const takenAt = this.now().toISOString();
    const images: InventoryImage[] = [];
    for (const [id, volume] of [...this.volumes].sort(([a], [b]) => a.localeCompare(b))) {
      images.push({
        kind: 'volume',
        id,
        path: `volumes/${id}.qcow2`,
        sizeBytes: 0,
        virtualSizeBytes: volume.sizeGiB * GIB,
        modifiedAt: volume.modifiedAt.toISOString(),
        inUse: this.runningInstanceOf(id) !== undefined,
        tags: this.tagsOf(id, volume),
        check: volume.check ?? { status: 'skipped', message: 'simulator driver: no image to check' },
      });
    }
    for (const [path, file] of [...this.secondaryFiles].sort(([a], [b]) => a.localeCompare(b))) {
      const listed = secondaryImage(path);
      if (!listed) continue;
      images.push({
        ...listed,
        path,
        sizeBytes: 0,
        virtualSizeBytes: file.virtualSizeBytes,
        modifiedAt: (file.modifiedAt ?? this.now()).toISOString(),
        inUse: false,
        tags: [],
        check: { status: 'skipped', message: 'simulator driver: no image to check' },
      });
    }
    return { takenAt, images };
  }

  /**
   * As the libvirt driver would: every volume's data generation at one instant, in any mode; a running instance
   * is running afterwards (its pause is reported as 0 ms), quiesced through the simulated guest agent when asked.
   */
  async createBackup(payload: CreateBackupPayload): Promise<CreateBackupResult> {
    const checked = checkedCreateBackup(payload);
    const { backupId, instanceId } = checked;
    await this.operate(`back up instance ${instanceId} to backup ${backupId}`);
    const action = `Could not back up instance ${instanceId} to backup ${backupId}`;
    const running = this.instances.get(instanceId)?.running === true;
    const existing = this.backups.get(simulatedBackupKey(checked));
    if (existing) {
      return {
        backupId,
        alreadyExisted: true,
        manifest: existing.manifest,
        sizeBytes: 0,
        guestPausedMs: null,
        instanceRunning: running,
      };
    }
    if (checked.parent && !this.backups.has(simulatedBackupKey(checked.parent))) {
      throw new DriverError(`${action}: the parent backup ${checked.parent.backupId} does not exist in its storage`);
    }
    const volumes = checked.volumes.map((spec) => ({
      spec,
      volume: this.requireVolume(spec.volumeId, action, `volume ${spec.volumeId} does not exist on this host`),
    }));
    const quiesced = running && checked.mode === 'SNAPSHOT' && checked.quiesce;
    if (quiesced) this.freeze(instanceId, action);
    const at = this.now().toISOString();
    const manifest: BackupManifest = {
      format: 1,
      backupId,
      organizationId: checked.organizationId,
      instanceId,
      instanceName: checked.instanceName,
      mode: checked.mode,
      compression: checked.compression,
      incremental: checked.parent !== undefined,
      parentBackupId: checked.parent?.backupId ?? null,
      instanceWasRunning: running,
      quiesced,
      startedAt: at,
      completedAt: at,
      volumes: volumes.map(({ spec, volume }) => ({
        volumeId: spec.volumeId,
        name: spec.name,
        type: spec.type,
        virtualSizeBytes: volume.sizeGiB * GIB,
        file: `${spec.volumeId}.qcow2`,
        sha256: createHash('sha256').update(`${backupId}:${spec.volumeId}:${volume.generation}`).digest('hex'),
        sizeBytes: 0,
        backingFile: checked.parent ? `../${checked.parent.backupId}/${spec.volumeId}.qcow2` : null,
      })),
    };
    const generations = new Map(volumes.map(({ spec, volume }) => [spec.volumeId, volume.generation]));
    this.backups.set(simulatedBackupKey(checked), { manifest, generations });
    return {
      backupId,
      alreadyExisted: false,
      manifest,
      sizeBytes: 0,
      guestPausedMs: running ? 0 : null,
      instanceRunning: running,
    };
  }

  /** Every backup of the chain must exist; targets get the backup's data generation (over a stopped instance only). */
  async restoreBackup(payload: RestoreBackupPayload): Promise<RestoreBackupResult> {
    const checked = checkedRestoreBackup(payload);
    const top = checked.chain[0];
    await this.operate(`restore backup ${top.backupId}`);
    const action = `Could not restore backup ${top.backupId}`;
    const links = checked.chain.map((link) => {
      const backup = this.backups.get(simulatedBackupKey(link));
      if (!backup) throw new DriverError(`${action}: backup ${link.backupId} does not exist in its storage`);
      return backup;
    });
    const backup = links[0];
    const writes = checked.targets.map((target) => {
      const generation = backup.generations.get(target.sourceVolumeId);
      const held = backup.manifest.volumes.find((v) => v.volumeId === target.sourceVolumeId);
      if (generation === undefined || !held) {
        throw new DriverError(`${action}: backup ${top.backupId} holds no volume ${target.sourceVolumeId}`);
      }
      checkFitsSize(action, held.virtualSizeBytes, target.sizeGiB);
      if (!checked.overwrite) return { target, generation, volume: this.volumes.get(target.volumeId) };
      const volume = this.requireVolume(
        target.volumeId,
        action,
        `volume ${target.volumeId} does not exist on this host`,
      );
      const runningIn = this.runningInstanceOf(target.volumeId);
      if (runningIn)
        throw new DriverError(`${action}: volume ${target.volumeId} is a disk of running instance ${runningIn}`);
      return { target, generation, volume };
    });
    for (const { target, generation, volume } of writes) {
      if (volume) {
        if (!checked.overwrite && volume.sizeGiB !== target.sizeGiB) {
          throw new DriverError(
            `Volume ${target.volumeId} already exists with a size of ${volume.sizeGiB} GiB, not ${target.sizeGiB} GiB`,
          );
        }
        if (checked.overwrite) {
          volume.generation = generation;
          volume.sizeGiB = Math.max(volume.sizeGiB, target.sizeGiB);
          volume.modifiedAt = this.now();
        }
        continue;
      }
      this.volumes.set(target.volumeId, {
        sizeGiB: target.sizeGiB,
        snapshots: new Map(),
        generation,
        modifiedAt: this.now(),
      });
    }
    return { restored: checked.targets.map((t) => t.volumeId), verifiedFiles: writes.length * links.length };
  }

  async deleteBackup(payload: DeleteBackupPayload): Promise<DeleteBackupResult> {
    const checked = checkedDeleteBackup(payload);
    await this.operate(`delete backup ${checked.backupId}`);
    return { alreadyGone: !this.backups.delete(simulatedBackupKey(checked)) };
  }

  /** The manifest of a simulated backup, if it exists; for tests. */
  backupManifest(location: BackupLocation): BackupManifest | undefined {
    return this.backups.get(simulatedBackupKey(location))?.manifest;
  }

  /** The simulator writes no image: nothing is ever left half written. */
  checkInterruptedImages(_options?: InterruptedImagesOptions): Promise<InterruptedImage[]> {
    return Promise.resolve([]);
  }

  /** Stands for a tag added behind the agent's back (`qemu-img snapshot -c` by hand): a stray tag. For tests. */
  simulateStrayTag(volumeId: string, tag: string): void {
    const id = checkedId(volumeId, 'volume');
    const volume = this.requireVolume(id, `Could not add tag ${tag} to volume ${id}`);
    volume.snapshots.set(tag, { createdAt: this.now(), generation: volume.generation });
  }

  /**
   * Stands for a tag removed behind the agent's back (`qemu-img snapshot -d` by hand): a snapshot, or this disk's
   * share of a recovery point, missing on disk. For tests.
   */
  simulateLostTag(volumeId: string, tag: string): void {
    const id = checkedId(volumeId, 'volume');
    this.volumes.get(id)?.snapshots.delete(tag);
    for (const instance of this.instances.values()) instance.instanceSnapshots.get(tag)?.generations.delete(id);
  }

  /** What the inventory reports as the volume's `qemu-img check` (undefined: back to `skipped`). For tests. */
  simulateImageCheck(volumeId: string, check: ImageCheck | undefined): void {
    const id = checkedId(volumeId, 'volume');
    this.requireVolume(id, `Could not set the check of volume ${id}`).check = check;
  }

  async startInstance(instance: StartInstancePayload): Promise<StartInstanceResult> {
    const { instanceId, volumeIds } = checkedInstance(instance);
    await this.operate(`start instance ${instanceId}`);
    const action = `Could not start instance ${instanceId}`;
    const known = this.instances.get(instanceId);
    if (known?.running) {
      if (known.volumeIds.join() !== volumeIds.join()) {
        throw new DriverError(
          `${action}: it is running with disks [${known.volumeIds.join(', ')}], not [${volumeIds.join(', ')}]: stop it first`,
        );
      }
      return { alreadyRunning: true };
    }
    for (const id of volumeIds) {
      this.requireVolume(id, action, `volume ${id} does not exist on this host`);
      const other = this.runningInstanceOf(id);
      if (other) throw new DriverError(`${action}: volume ${id} is a disk of running instance ${other}`);
    }
    if (known) {
      known.running = true;
      known.volumeIds = volumeIds;
    } else {
      this.instances.set(instanceId, { running: true, volumeIds, instanceSnapshots: new Map() });
    }
    return { alreadyRunning: false };
  }

  async stopInstance(instance: InstanceDisks, _timeoutSeconds: number): Promise<StopInstanceResult> {
    const { instanceId } = checkedInstance(instance);
    await this.operate(`stop instance ${instanceId}`);
    const known = this.instances.get(instanceId);
    if (!known?.running) return { alreadyStopped: true, forced: false };
    known.running = false;
    return { alreadyStopped: false, forced: false };
  }

  async createInstanceSnapshot(
    instance: InstanceDisks,
    instanceSnapshotId: string,
    options: CreateInstanceSnapshotOptions,
  ): Promise<CreateInstanceSnapshotResult> {
    const { instanceId, volumeIds } = checkedInstance(instance);
    const id = checkedId(instanceSnapshotId, 'recovery point');
    await this.operate(`create recovery point ${id} of instance ${instanceId}`);
    const action = `Could not create recovery point ${id} of instance ${instanceId}`;
    const known = this.instances.get(instanceId);
    const existing = known?.instanceSnapshots.get(id);
    if (existing) {
      if (existing.withMemory !== options.withMemory) {
        throw new DriverError(`${action}: it exists already ${existing.withMemory ? 'with' : 'without'} memory`);
      }
      return { alreadyExisted: true, quiesced: false };
    }
    const running = known?.running === true;
    if (options.withMemory) {
      if (options.quiesce) {
        throw new DriverError(
          `${action}: a recovery point with memory cannot be quiesced (the guest would be saved frozen); ask for one without memory`,
        );
      }
      if (!running) throw new DriverError(`${action}: a recovery point with memory needs a running instance`);
    }
    const volumes = volumeIds.map((v) => this.requireVolume(v, action, `volume ${v} does not exist on this host`));
    const quiesced = options.quiesce && running;
    if (quiesced) this.freeze(instanceId, action);
    const generations = new Map(volumeIds.map((v, i) => [v, volumes[i].generation]));
    const point = { withMemory: options.withMemory, generations, createdAt: this.now() };
    if (known) known.instanceSnapshots.set(id, point);
    else this.instances.set(instanceId, { running: false, volumeIds, instanceSnapshots: new Map([[id, point]]) });
    return { alreadyExisted: false, quiesced };
  }

  async revertInstanceSnapshot(
    instance: InstanceDisks,
    instanceSnapshotId: string,
    startAfter: boolean,
  ): Promise<RevertInstanceSnapshotResult> {
    const { instanceId, volumeIds } = checkedInstance(instance);
    const id = checkedId(instanceSnapshotId, 'recovery point');
    await this.operate(`revert instance ${instanceId} to recovery point ${id}`);
    const action = `Could not revert instance ${instanceId} to recovery point ${id}`;
    const known = this.instances.get(instanceId);
    const point = known?.instanceSnapshots.get(id);
    if (!known || !point) {
      throw new DriverError(
        `${action}: the instance has no recovery point ${id}`,
        false,
        JobFailureReason.SNAPSHOT_MISSING,
      );
    }
    if (!point.withMemory && known.running) {
      throw new DriverError(
        `${action}: the recovery point has no memory: it can be reverted only while the instance is stopped`,
      );
    }
    const volumes = volumeIds.map((v) => {
      const generation = point.generations.get(v);
      if (generation === undefined) throw snapshotMissing(action, v, id, 'recovery point');
      return [this.requireVolume(v, action, `volume ${v} does not exist on this host`), generation] as const;
    });
    for (const [volume, generation] of volumes) volume.generation = generation;
    known.running = startAfter;
    known.volumeIds = volumeIds;
    return { running: startAfter };
  }

  async deleteInstanceSnapshot(instance: InstanceDisks, instanceSnapshotId: string): Promise<RemoveResult> {
    const { instanceId } = checkedInstance(instance);
    const id = checkedId(instanceSnapshotId, 'recovery point');
    await this.operate(`delete recovery point ${id} of instance ${instanceId}`);
    return { alreadyGone: this.instances.get(instanceId)?.instanceSnapshots.delete(id) !== true };
  }

  /** The simulator keeps nothing of a destroyed instance outside its volumes: nothing to forget. */
  forgetInstance(_instanceId: string): Promise<RemoveResult> {
    return Promise.resolve({ alreadyGone: true });
  }

  /** Whether the simulated instance runs; for tests. */
  instanceRunning(instanceId: string): boolean {
    return this.instances.get(checkedId(instanceId, 'instance'))?.running === true;
  }

  /** Makes one instance's simulated guest agent answer a quiesce request, or not. */
  setGuestAgent(instanceId: string, answers: boolean): void {
    const id = checkedId(instanceId, 'instance');
    const known = this.instances.get(id);
    if (known) known.guestAgent = answers;
    else this.instances.set(id, { running: false, volumeIds: [], instanceSnapshots: new Map(), guestAgent: answers });
  }

  /**
   * Places a qcow2 image in simulated secondary storage, as an operator copying a file there would: the way to
   * offer the simulator an image to import. Returns the data generation it stands for.
   */
  putSecondaryFile(path: string, virtualSizeBytes: number): number {
    const relativePath = checkedRelativePath(path, 'path');
    const generation = this.nextGeneration++;
    this.secondaryFiles.set(relativePath, { virtualSizeBytes, generation, modifiedAt: this.now() });
    return generation;
  }

  /** The simulated file at a relative path, if any; for tests. */
  secondaryFile(path: string): SimulatedFile | undefined {
    return this.secondaryFiles.get(path);
  }

  /** Stands for a guest writing to the volume: its data changes. Returns the new data generation. */
  simulateWrite(volumeId: string): number {
    const id = checkedId(volumeId, 'volume');
    const volume = this.requireVolume(id, `Could not write to volume ${id}`);
    volume.generation = this.nextGeneration++;
    return volume.generation;
  }

  /** The data generation of a volume (see SimulatedVolume), if it exists; for tests. */
  volumeGeneration(volumeId: string): number | undefined {
    return this.volumes.get(checkedId(volumeId, 'volume'))?.generation;
  }

  private tagsOf(volumeId: string, volume: SimulatedVolume): InventoryTag[] {
    const tags: InventoryTag[] = [...volume.snapshots].map(([tag, { createdAt }]) => ({
      tag,
      createdAt: createdAt.toISOString(),
      vmStateBytes: 0,
    }));
    for (const instance of this.instances.values()) {
      for (const [tag, point] of instance.instanceSnapshots) {
        if (!point.generations.has(volumeId)) continue;
        const root = [...point.generations.keys()][0] === volumeId;
        tags.push({
          tag,
          createdAt: point.createdAt.toISOString(),
          vmStateBytes: point.withMemory && root ? SIMULATED_MEMORY_BYTES : 0,
        });
      }
    }
    return tags;
  }

  /** The running instance whose disk this volume is, if any. */
  private runningInstanceOf(volumeId: string): string | undefined {
    for (const [instanceId, instance] of this.instances) {
      if (instance.running && instance.volumeIds.includes(volumeId)) return instanceId;
    }
    return undefined;
  }

  /** A quiesce: the simulated guest agent answers, or the operation fails having taken nothing. */
  private freeze(instanceId: string, action: string): void {
    const answers = this.instances.get(instanceId)?.guestAgent ?? this.options.guestAgent ?? true;
    if (!answers) {
      throw new DriverError(
        `${action}: quiesce requested but the guest agent of instance ${instanceId} does not answer; nothing was taken`,
      );
    }
  }

  /** The latency, then the injected failure: a failed operation changes nothing, like a refused request. */
  private async operate(description: string): Promise<void> {
    await this.delay(this.options.latencyMs);
    if (this.random() < this.options.failureRate) {
      throw new DriverError(
        `Simulated failure: could not ${description} (simulator driver, SIMULATOR_FAILURE_RATE=${this.options.failureRate})`,
        true,
      );
    }
  }

  private requireVolume(id: string, action: string, why = 'the volume does not exist on this host'): SimulatedVolume {
    const volume = this.volumes.get(id);
    if (!volume) throw new DriverError(`${action}: ${why}`);
    return volume;
  }

  private requireSnapshot(volume: SimulatedVolume, id: string, tag: string, action: string): SimulatedSnapshot {
    const snapshot = volume.snapshots.get(tag);
    if (!snapshot) throw snapshotMissing(action, id, tag);
    return snapshot;
  }

  private requireFile(path: string, action: string): SimulatedFile {
    const file = this.secondaryFiles.get(path);
    if (!file) throw new DriverError(`${action}: ${path} does not exist in secondary storage`);
    return file;
  }
}

function simulatedBackupKey(location: BackupLocation): string {
  return `${location.storage.root}:${location.storage.path}/${location.folder}`;
}

/** The kind and id of a simulated secondary file the inventory lists (as the qemu-img driver would), or null. */
function secondaryImage(path: string): Pick<InventoryImage, 'kind' | 'id'> | null {
  const [folder, name, ...rest] = path.split('/');
  if (name === undefined || rest.length > 0) return null;
  const stem = name.replace(/\.qcow2$/, '');
  if (folder === 'templates' && name.endsWith('.qcow2') && VOLUME_FILE.test(stem))
    return { kind: 'template', id: stem };
  if (folder === 'transfers') return { kind: 'transfer', id: stem };
  return null;
}
