import { setTimeout as sleep } from 'node:timers/promises';
import { templatePath, type VolumeSource } from '@snapdeck/contracts';
import {
  checkedId,
  checkedRelativePath,
  checkedSizeGiB,
  checkedSource,
  checkFitsSize,
  describeSource,
  GIB,
  TRANSFERS_FOLDER,
} from '../driver-input.js';
import {
  type CopyResult,
  type CreateSnapshotResult,
  type CreateVolumeResult,
  type DeleteSnapshotResult,
  DriverError,
  type RemoveResult,
  VolumeDriver,
  type VolumeSnapshot,
} from '../volume-driver.js';

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
}

/** A qcow2 file in simulated secondary storage. */
export interface SimulatedFile {
  virtualSizeBytes: number;
  /** The data generation it holds, as in SimulatedVolume. */
  generation: number;
}

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
export class SimulatorDriver extends VolumeDriver {
  readonly name = 'simulator' as const;
  private readonly volumes = new Map<string, SimulatedVolume>();
  private readonly secondaryFiles = new Map<string, SimulatedFile>();
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
    this.volumes.set(id, { sizeGiB: size, snapshots: new Map(), generation });
    return { alreadyExisted: false };
  }

  async destroyVolume(volumeId: string): Promise<RemoveResult> {
    const id = checkedId(volumeId, 'volume');
    await this.operate(`destroy volume ${id}`);
    return { alreadyGone: !this.volumes.delete(id) };
  }

  async createSnapshot(volumeId: string, snapshotId: string): Promise<CreateSnapshotResult> {
    const id = checkedId(volumeId, 'volume');
    const tag = checkedId(snapshotId, 'snapshot');
    await this.operate(`create snapshot ${tag} of volume ${id}`);
    const volume = this.requireVolume(id, `Could not create snapshot ${tag} of volume ${id}`);
    if (volume.snapshots.has(tag)) return { alreadyExisted: true, sizeBytes: null };
    volume.snapshots.set(tag, { createdAt: this.now(), generation: volume.generation });
    return { alreadyExisted: false, sizeBytes: null };
  }

  async deleteSnapshot(volumeId: string, snapshotId: string): Promise<DeleteSnapshotResult> {
    const id = checkedId(volumeId, 'volume');
    const tag = checkedId(snapshotId, 'snapshot');
    await this.operate(`delete snapshot ${tag} of volume ${id}`);
    const volume = this.requireVolume(id, `Could not delete snapshot ${tag} of volume ${id}`);
    return { alreadyGone: !volume.snapshots.delete(tag) };
  }

  async revertSnapshot(volumeId: string, snapshotId: string): Promise<void> {
    const id = checkedId(volumeId, 'volume');
    const tag = checkedId(snapshotId, 'snapshot');
    await this.operate(`revert volume ${id} to snapshot ${tag}`);
    const action = `Could not revert volume ${id} to snapshot ${tag}`;
    const volume = this.requireVolume(id, action);
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
    const file = { virtualSizeBytes: volume.sizeGiB * GIB, generation: snapshot.generation };
    this.secondaryFiles.set(dest, file);
    return { alreadyExisted: false, virtualSizeBytes: file.virtualSizeBytes };
  }

  async importTemplate(templateId: string, path: string): Promise<CopyResult> {
    const id = checkedId(templateId, 'template');
    const source = checkedRelativePath(path, 'template path');
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
    this.secondaryFiles.set(destination, { ...file });
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
   * Places a qcow2 image in simulated secondary storage, as an operator copying a file there would: the way to
   * offer the simulator an image to import. Returns the data generation it stands for.
   */
  putSecondaryFile(path: string, virtualSizeBytes: number): number {
    const relativePath = checkedRelativePath(path, 'path');
    const generation = this.nextGeneration++;
    this.secondaryFiles.set(relativePath, { virtualSizeBytes, generation });
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
    if (!snapshot) throw new DriverError(`${action}: volume ${id} has no snapshot ${tag}`);
    return snapshot;
  }

  private requireFile(path: string, action: string): SimulatedFile {
    const file = this.secondaryFiles.get(path);
    if (!file) throw new DriverError(`${action}: ${path} does not exist in secondary storage`);
    return file;
  }
}
