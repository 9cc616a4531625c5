import { resolve } from 'node:path';
import {
  type CreateBackupPayload,
  type CreateBackupResult,
  type DeleteBackupPayload,
  type DeleteBackupResult,
  type InstanceDisks,
  type StartInstancePayload,
  type RestoreBackupPayload,
  type RestoreBackupResult,
  type StorageInventory,
  type VolumeSource,
} from '@snapdeck/contracts';
import { checkedCreateBackup, checkedRestoreBackup } from '../backups/backup-input.js';
import { checkedId, checkedInstance, checkedSource } from '../driver-input.js';
import { KeyedMutex } from '../keyed-mutex.js';
import { BackupJournal } from './backup-journal.js';
import { domainName } from './domain-xml.js';
import { InstanceNotRunningError } from './domains.js';
import { LibvirtHypervisor } from './libvirt-hypervisor.js';
import { LiveBackups } from './live-backups.js';
import { QemuImgDriver } from '../qemu-img/qemu-img.driver.js';
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

export interface LibvirtDriverOptions {
  /** AGENT_STORAGE_DIR: the same layout as the qemu-img driver, `volumes/<volumeId>.qcow2`. */
  storageDir: string;
  /** SECONDARY_STORAGE_DIR. */
  secondaryDir: string;
  /** AGENT_SECONDARY_READ_TIMEOUT_SECONDS, in milliseconds. */
  secondaryReadTimeoutMs?: number;
  /** AGENT_LIBVIRT_URI. */
  uri: string;
  /** How long a STOP-mode backup waits for the guest to power off before it is forced; default 2 minutes. */
  backupStopTimeoutMs?: number;
  /** Injectable for tests; built on `uri` otherwise. */
  hypervisor?: LibvirtHypervisor;
  files?: QemuImgDriver;
}

/** Lock key of an instance; volume keys are bare volume ids. */
const instanceKey = (instanceId: string) => `instance:${instanceId}`;

/**
 * The driver of a KVM node: instances run as libvirt domains (`i-<instanceId>`), volumes are the qemu-img
 * driver's files, which the domains use as their disks.
 *
 * Every volume operation first asks libvirt whether a running (or paused) domain has the volume as a disk:
 * - no: the offline qemu-img driver does it, exactly as on a qemu-img node;
 * - yes: a snapshot is taken (or deleted) live through QEMU (hypervisor.liveSnapshots: blockdev-snapshot-internal-sync,
 *   an internal qcow2 snapshot tagged with the snapshot id, the same one `qemu-img snapshot -c` makes), so
 *   everything downstream (revert, templates, clones) is unchanged. A revert or a destroy is refused: QEMU
 *   owns the disk and the guest would see its data change under it (the api refuses both first anyway).
 * - export, or a new volume from a snapshot, of a running disk: `qemu-img convert -U` (force-share) reads the
 *   internal snapshot while QEMU writes the active layer. That is consistent because an internal snapshot is
 *   immutable while it exists: QEMU flushed the image when it took it, and every cluster and L2 table the
 *   snapshot references has a refcount above one, so the guest's writes are copied elsewhere and never land in
 *   them. What could change under the reader is the snapshot table and the snapshot's clusters being freed, by
 *   a snapshot create or delete on the same image: this driver runs those under the same per-volume lock as
 *   the copy, so none happens meanwhile. (Reading the active layer with -U would NOT be consistent; nothing
 *   here does.)
 *
 * The check (is the volume a running disk?) and the operation run under one lock per volume, which instance
 * operations take for all their volumes: a start cannot slip between the check and an offline qemu-img. Even
 * so, QEMU's own image locks remain the last guard: an offline qemu-img on a running disk fails to get the
 * write lock instead of corrupting it.
 */
export class LibvirtDriver extends VolumeDriver implements InstanceDriver {
  readonly name = 'libvirt' as const;
  readonly hypervisor: LibvirtHypervisor;
  readonly files: QemuImgDriver;
  readonly uri: string;
  readonly liveBackups: LiveBackups;
  /** Outside the qemu-img driver's own locks (which it takes inside), never inside them: no cycle. */
  private readonly locks = new KeyedMutex();
  private readonly storageDir: string;

  constructor(options: LibvirtDriverOptions) {
    super();
    this.uri = options.uri;
    this.storageDir = resolve(options.storageDir);
    this.hypervisor = options.hypervisor ?? new LibvirtHypervisor({ uri: options.uri });
    this.files =
      options.files ??
      new QemuImgDriver({
        storageDir: options.storageDir,
        secondaryDir: options.secondaryDir,
        secondaryReadTimeoutMs: options.secondaryReadTimeoutMs,
      });
    this.liveBackups = new LiveBackups(
      this.hypervisor,
      this.files,
      new BackupJournal(options.storageDir),
      options.backupStopTimeoutMs ?? 120_000,
    );
  }

  /** libvirt must answer at AGENT_LIBVIRT_URI and qemu-img must run, or the agent refuses to start. */
  async init(): Promise<void> {
    try {
      await this.hypervisor.domains.init();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new DriverError(
        `The libvirt driver cannot reach libvirt at ${this.uri} (AGENT_LIBVIRT_URI): ${reason}. ` +
          'Start libvirtd (bash scripts/ensure-libvirt.sh does it) or set AGENT_DRIVER=qemu-img for stopped instances only',
      );
    }
    await this.files.init();
  }

  volumeExists(volumeId: string): Promise<boolean> {
    return this.files.volumeExists(volumeId);
  }

  async createVolume(volumeId: string, sizeGiB: number, source?: VolumeSource): Promise<CreateVolumeResult> {
    const id = checkedId(volumeId, 'volume');
    const from = checkedSource(source);
    if (from.kind !== 'snapshot') return this.files.createVolume(id, sizeGiB, from);
    return this.locks.runAll([id, from.volumeId], async () => {
      const runningIn = await this.runningInstanceOf(from.volumeId);
      return this.files.createVolume(id, sizeGiB, from, { sharedRead: runningIn !== undefined });
    });
  }

  async destroyVolume(volumeId: string): Promise<RemoveResult> {
    const id = checkedId(volumeId, 'volume');
    return this.locks.run(id, async () => {
      await this.refuseIfRunning(id, `Could not destroy volume ${id}`);
      return this.files.destroyVolume(id);
    });
  }

  async createSnapshot(
    volumeId: string,
    snapshotId: string,
    options: CreateSnapshotOptions = {},
  ): Promise<CreateSnapshotResult> {
    const id = checkedId(volumeId, 'volume');
    const tag = checkedId(snapshotId, 'snapshot');
    return this.locks.run(id, async () => {
      const runningIn = await this.runningInstanceOf(id, options.instanceId);
      if (runningIn !== undefined) {
        try {
          const live = await this.hypervisor.liveSnapshots.create(runningIn, this.files.volumePath(id), tag, {
            quiesce: options.quiesce === true,
          });
          return { alreadyExisted: live.alreadyExisted, sizeBytes: null, quiesced: live.quiesced };
        } catch (error) {
          // The guest powered off between the check and the snapshot: the disk is a plain file again.
          if (!(error instanceof InstanceNotRunningError)) throw this.about(error, `create snapshot ${tag}`, id);
        }
      }
      // Asked for a frozen guest, never hand back an unfrozen snapshot (the api asks only for a running one).
      if (options.quiesce === true) {
        throw new DriverError(
          `Could not create snapshot ${tag} of volume ${id}: quiesce needs a running instance, and ` +
            `${options.instanceId ? `instance ${options.instanceId}` : 'its instance'} is not running; nothing was taken`,
        );
      }
      // A stopped instance has no file system to freeze: the snapshot is consistent, and says it was not quiesced.
      return this.files.createSnapshot(id, tag);
    });
  }

  async deleteSnapshot(
    volumeId: string,
    snapshotId: string,
    context: VolumeContext = {},
  ): Promise<DeleteSnapshotResult> {
    const id = checkedId(volumeId, 'volume');
    const tag = checkedId(snapshotId, 'snapshot');
    return this.locks.run(id, async () => {
      const runningIn = await this.runningInstanceOf(id, context.instanceId);
      if (runningIn !== undefined) {
        try {
          return await this.hypervisor.liveSnapshots.delete(runningIn, this.files.volumePath(id), tag);
        } catch (error) {
          if (!(error instanceof InstanceNotRunningError)) throw this.about(error, `delete snapshot ${tag}`, id);
        }
      }
      return this.files.deleteSnapshot(id, tag);
    });
  }

  async revertSnapshot(volumeId: string, snapshotId: string): Promise<void> {
    const id = checkedId(volumeId, 'volume');
    const tag = checkedId(snapshotId, 'snapshot');
    await this.locks.run(id, async () => {
      await this.refuseIfRunning(id, `Could not revert volume ${id} to snapshot ${tag}`);
      await this.files.revertSnapshot(id, tag);
    });
  }

  async exportSnapshot(volumeId: string, snapshotId: string, destination: string): Promise<CopyResult> {
    const id = checkedId(volumeId, 'volume');
    return this.locks.run(id, async () => {
      const runningIn = await this.runningInstanceOf(id);
      return this.files.exportSnapshot(id, snapshotId, destination, { sharedRead: runningIn !== undefined });
    });
  }

  importTemplate(templateId: string, path: string): Promise<CopyResult> {
    return this.files.importTemplate(templateId, path);
  }

  deleteTemplate(templateId: string): Promise<RemoveResult> {
    return this.files.deleteTemplate(templateId);
  }

  removeTransfer(path: string): Promise<RemoveResult> {
    return this.files.removeTransfer(path);
  }

  async listSnapshots(volumeId: string): Promise<VolumeSnapshot[]> {
    const id = checkedId(volumeId, 'volume');
    return this.locks.run(id, async () => {
      const runningIn = await this.runningInstanceOf(id);
      return this.files.listSnapshots(id, { sharedRead: runningIn !== undefined });
    });
  }

  /**
   * The files driver's inventory, told which volumes running domains hold: those are checked read-only with -U
   * and reported inUse (QEMU holds their lock; they are never repaired while it does).
   */
  async inventory(options: InventoryOptions): Promise<StorageInventory> {
    return this.files.inventory(options, await this.heldVolumeIds());
  }

  /**
   * Journaled images are those of offline qemu-img writes; a domain started since holds its disk's lock, which the
   * files driver sees (a held image is checked with -U and never repaired).
   */
  checkInterruptedImages(options: InterruptedImagesOptions): Promise<InterruptedImage[]> {
    return this.files.checkInterruptedImages(options);
  }

  // Backups ---------------------------------------------------------------------------------------------------

  /**
   * A stopped instance: the files driver's plain copy. A running (or paused) one: see LiveBackups, which leaves
   * the domain in the state it had whatever fails.
   */
  async createBackup(payload: CreateBackupPayload): Promise<CreateBackupResult> {
    const checked = checkedCreateBackup(payload);
    const instance = { instanceId: checked.instanceId, volumeIds: checked.volumes.map((v) => v.volumeId) };
    return this.withInstance(instance, async () => {
      const state = await this.hypervisor.domains.instanceState(checked.instanceId);
      if (state === 'STOPPED' && checked.instanceRunning) {
        // Running when the api asked, and locked since: only an earlier delivery of this backup stopped it (a
        // forced stop can land after its killed agent's restart). It ends as STOP mode ends: started again.
        const prepared = await this.files.prepareBackup(checked);
        return this.liveBackups.backUpStopped(prepared);
      }
      if (state !== 'RUNNING' && state !== 'PAUSED') {
        for (const volumeId of instance.volumeIds) {
          await this.refuseIfRunning(volumeId, `Could not back up instance ${checked.instanceId}`);
        }
        return this.files.createBackup(checked);
      }
      const prepared = await this.files.prepareBackup(checked);
      if (prepared.existing) {
        // A repeated delivery of a backup that completed: what its first delivery may have left is finished.
        await this.liveBackups.finishJournaled(checked.backupId);
        return this.files.existingBackup(prepared, await this.isLive(checked.instanceId));
      }
      return this.liveBackups.backUp(prepared, state);
    });
  }

  /** At start-up: domains a backup left paused or stopped are brought back, temporary snapshots removed. */
  override recoverInterruptedBackups(): Promise<string[]> {
    return this.liveBackups.recover();
  }

  /** Over existing volumes only while no running domain has them; into new volumes at any time. */
  async restoreBackup(payload: RestoreBackupPayload): Promise<RestoreBackupResult> {
    const checked = checkedRestoreBackup(payload);
    const ids = checked.targets.map((t) => t.volumeId);
    return this.locks.runAll([instanceKey(checked.instanceId), ...ids], async () => {
      if (checked.overwrite) {
        for (const id of ids) {
          await this.refuseIfRunning(id, `Could not restore over volume ${id} of instance ${checked.instanceId}`);
        }
      }
      return this.files.restoreBackup(checked);
    });
  }

  deleteBackup(payload: DeleteBackupPayload): Promise<DeleteBackupResult> {
    return this.files.deleteBackup(payload);
  }

  // Instances -------------------------------------------------------------------------------------------------

  async startInstance(instance: StartInstancePayload): Promise<StartInstanceResult> {
    const checked = { ...instance, ...checkedInstance(instance) };
    return this.withInstance(checked, () => this.start(checked));
  }

  async stopInstance(instance: InstanceDisks, timeoutSeconds: number): Promise<StopInstanceResult> {
    const checked = checkedInstance(instance);
    return this.withInstance(checked, async () => {
      const { alreadyStopped, forced } = await this.hypervisor.domains.stop(checked.instanceId, {
        timeoutMs: Math.max(0, timeoutSeconds) * 1000,
      });
      return { alreadyStopped, forced };
    });
  }

  /**
   * Running (or paused): LibvirtHypervisor takes it, with memory (a libvirt system checkpoint) or without (one
   * QMP transaction over every disk). Stopped, or never started: the same tag on every disk with qemu-img, from
   * the job's own disk list; there is nothing to freeze, so it says not quiesced, and memory is refused.
   */
  async createInstanceSnapshot(
    instance: InstanceDisks,
    instanceSnapshotId: string,
    options: CreateInstanceSnapshotOptions,
  ): Promise<CreateInstanceSnapshotResult> {
    const checked = checkedInstance(instance);
    const id = checkedId(instanceSnapshotId, 'recovery point');
    const action = `Could not create recovery point ${id} of instance ${checked.instanceId}`;
    return this.withInstance(checked, async () => {
      if (await this.isLive(checked.instanceId)) {
        const taken = await this.hypervisor.instanceSnapshots
          .create(checked.instanceId, id, { withMemory: options.withMemory, quiesce: options.quiesce })
          .catch((error: unknown) => {
            throw this.prefixed(error, action);
          });
        if (taken.kind !== 'memory') return { alreadyExisted: taken.alreadyExisted, quiesced: taken.quiesced };
        // Shown to the tenant: the volumes' files relative to the host's storage (volumes/<id>.qcow2), not where
        // this host keeps them.
        const snapshotXml = (await this.hypervisor.instanceSnapshots.dumpXml(checked.instanceId, id))
          .split(`${this.storageDir}/`)
          .join('')
          .trim();
        return { alreadyExisted: taken.alreadyExisted, quiesced: taken.quiesced, snapshotXml };
      }
      if (options.withMemory) {
        throw new DriverError(`${action}: the instance is stopped, and a recovery point with memory needs it running`);
      }
      let created = 0;
      for (const volumeId of checked.volumeIds) {
        if (!(await this.files.createSnapshot(volumeId, id)).alreadyExisted) created++;
      }
      return { alreadyExisted: created === 0, quiesced: false };
    });
  }

  /**
   * A point with memory: libvirt restores disks, memory and devices, and leaves the guest running or stopped.
   * A point without memory: only while stopped (QEMU cannot swap a running disk's data under the guest), every
   * disk checked first, then `qemu-img snapshot -a` on each, then started if asked.
   */
  async revertInstanceSnapshot(
    instance: InstanceDisks,
    instanceSnapshotId: string,
    startAfter: boolean,
  ): Promise<RevertInstanceSnapshotResult> {
    const checked = checkedInstance(instance);
    const id = checkedId(instanceSnapshotId, 'recovery point');
    const action = `Could not revert instance ${checked.instanceId} to recovery point ${id}`;
    return this.withInstance(checked, async () => {
      const kind = await this.snapshotKind(checked.instanceId, id);
      if (kind === 'memory') {
        const { state } = await this.hypervisor.instanceSnapshots
          .revert(checked.instanceId, id, { state: startAfter ? 'running' : 'stopped' })
          .catch((error: unknown) => {
            throw this.prefixed(error, action);
          });
        return { running: state === 'RUNNING' };
      }
      if (await this.isLive(checked.instanceId)) {
        throw new DriverError(
          `${action}: the recovery point has no memory, so it is reverted only while the instance is stopped; stop it first`,
        );
      }
      for (const volumeId of checked.volumeIds) {
        const tags = (await this.files.listSnapshots(volumeId)).map((s) => s.tag);
        if (!tags.includes(id)) throw snapshotMissing(action, volumeId, id, 'recovery point');
      }
      for (const volumeId of checked.volumeIds) await this.files.revertSnapshot(volumeId, id);
      if (startAfter) await this.start(checked);
      return { running: startAfter };
    });
  }

  async deleteInstanceSnapshot(instance: InstanceDisks, instanceSnapshotId: string): Promise<RemoveResult> {
    const checked = checkedInstance(instance);
    const id = checkedId(instanceSnapshotId, 'recovery point');
    const action = `Could not delete recovery point ${id} of instance ${checked.instanceId}`;
    return this.withInstance(checked, async () => {
      const kind = await this.snapshotKind(checked.instanceId, id);
      if (kind === 'memory' || (await this.isLive(checked.instanceId))) {
        const { alreadyGone } = await this.hypervisor.instanceSnapshots
          .delete(checked.instanceId, id)
          .catch((error) => {
            throw this.prefixed(error, action);
          });
        return { alreadyGone };
      }
      let deleted = 0;
      for (const volumeId of checked.volumeIds) {
        if (!(await this.files.deleteSnapshot(volumeId, id)).alreadyGone) deleted++;
      }
      return { alreadyGone: deleted === 0 };
    });
  }

  /**
   * Undefines the destroyed instance's stopped domain (and its snapshot metadata) so that nothing of it stays in
   * libvirt; its volumes are removed after, by destroyVolume. A running domain is refused.
   */
  async forgetInstance(instanceId: string): Promise<RemoveResult> {
    const id = checkedId(instanceId, 'instance');
    return this.locks.run(instanceKey(id), async () => {
      const { alreadyGone } = await this.hypervisor.domains.undefine(id).catch((error: unknown) => {
        throw this.prefixed(error, `Could not destroy instance ${id}`);
      });
      return { alreadyGone };
    });
  }

  // -----------------------------------------------------------------------------------------------------------

  /**
   * The running (or paused) instance whose domain has this volume as a disk, if any. Every active domain of
   * Snapdeck's (`i-…`) is looked at, the one the job names first: a volume must never be touched offline while
   * QEMU has it open, whatever the job says.
   */
  async runningInstanceOf(volumeId: string, hint?: string): Promise<string | undefined> {
    const path = this.files.volumePath(volumeId);
    const active = await this.activeDomains();
    const first = hint !== undefined ? domainName(hint) : undefined;
    const ordered = first && active.includes(first) ? [first, ...active.filter((d) => d !== first)] : active;
    for (const domain of ordered) {
      const disks = await this.hypervisor.disks.fileDisks(domain).catch(() => []); // [] when it is gone meanwhile
      if (disks.some((disk) => disk.path === path)) return domain.slice(2);
    }
    return undefined;
  }

  /** Volumes that an active (running or paused) domain of Snapdeck's has as a disk. */
  private async heldVolumeIds(): Promise<Set<string>> {
    const prefix = `${this.files.volumesDir}/`;
    const held = new Set<string>();
    for (const domain of await this.activeDomains()) {
      const disks = await this.hypervisor.disks.fileDisks(domain).catch(() => []); // [] when it is gone meanwhile
      for (const { path } of disks) {
        if (path.startsWith(prefix) && path.endsWith('.qcow2')) held.add(path.slice(prefix.length, -'.qcow2'.length));
      }
    }
    return held;
  }

  private async activeDomains(): Promise<string[]> {
    return (await this.hypervisor.virsh.run(['list', '--name']))
      .split('\n')
      .map((line) => line.trim())
      .filter((name) => name.startsWith('i-'));
  }

  private async start(instance: StartInstancePayload): Promise<StartInstanceResult> {
    for (const volumeId of instance.volumeIds) {
      if (!(await this.files.volumeExists(volumeId))) {
        throw new DriverError(
          `Could not start instance ${instance.instanceId}: volume ${volumeId} does not exist on this host`,
        );
      }
    }
    const paths = instance.volumeIds.map((v) => this.files.volumePath(v));
    const size =
      instance.cpuCount !== undefined && instance.memoryMiB !== undefined
        ? { cpuCount: instance.cpuCount, memoryMiB: instance.memoryMiB }
        : undefined;
    const { alreadyRunning } = await this.hypervisor.domains.start(instance.instanceId, paths, size).catch((error) => {
      throw this.prefixed(error, `Could not start instance ${instance.instanceId}`);
    });
    return { alreadyRunning };
  }

  private async isLive(instanceId: string): Promise<boolean> {
    const state = await this.hypervisor.domains.instanceState(instanceId);
    return state === 'RUNNING' || state === 'PAUSED';
  }

  /** The kind of an instance snapshot as libvirt and the disks tell; null for an instance that has no domain yet. */
  private async snapshotKind(instanceId: string, instanceSnapshotId: string): Promise<'memory' | 'disk' | null> {
    if ((await this.hypervisor.domains.instanceState(instanceId)) === 'MISSING') return null;
    return this.hypervisor.instanceSnapshots.kind(instanceId, instanceSnapshotId);
  }

  private async refuseIfRunning(volumeId: string, action: string): Promise<void> {
    const runningIn = await this.runningInstanceOf(volumeId);
    if (runningIn !== undefined) {
      throw new DriverError(`${action}: it is a disk of running instance ${runningIn}; stop the instance first`);
    }
  }

  /**
   * An instance operation holds the instance and every one of its volumes. Whatever fails inside reaches the api
   * without host paths (a lookup of the disks can fail with qemu-img's words, which name files).
   */
  private withInstance<T>(instance: InstanceDisks, task: () => Promise<T>): Promise<T> {
    return this.locks.runAll([instanceKey(instance.instanceId), ...instance.volumeIds], async () => {
      try {
        return await task();
      } catch (error) {
        throw this.prefixed(error, `Could not complete the operation on instance ${instance.instanceId}`);
      }
    });
  }

  private about(error: unknown, what: string, volumeId: string): unknown {
    return this.prefixed(error, `Could not ${what} of volume ${volumeId}`);
  }

  /**
   * An error's message with host paths replaced by names (its class and retryability kept; the message travels
   * to the api), and for a DriverError the action in front.
   */
  private prefixed(error: unknown, action: string): unknown {
    if (error instanceof Error) {
      const text =
        error instanceof DriverError && !error.message.startsWith('Could not')
          ? `${action}: ${error.message}`
          : error.message;
      error.message = text
        .split(`${this.files.volumesDir}/`)
        .join('')
        .replace(/\b([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.qcow2\b/g, 'volume $1')
        .split(this.files.volumesDir)
        .join('primary storage');
    }
    return error;
  }
}
