import { setTimeout as sleep } from 'node:timers/promises';
import { checkedId, checkedSizeGiB } from '../driver-input.js';
import {
  type CreateSnapshotResult,
  type CreateVolumeResult,
  type DeleteSnapshotResult,
  DriverError,
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

interface SimulatedVolume {
  sizeGiB: number;
  snapshots: Map<string, Date>;
}

/**
 * No disks: state lives in memory and is lost on restart. For scale tests and demos of the api, where
 * hundreds of hosts and thousands of snapshots must not need real images. Behaves like the qemu-img driver
 * (same validation, same idempotency) so the api cannot tell them apart except by speed.
 */
export class SimulatorDriver extends VolumeDriver {
  readonly name = 'simulator' as const;
  private readonly volumes = new Map<string, SimulatedVolume>();
  private readonly random: () => number;
  private readonly delay: (ms: number) => Promise<void>;
  private readonly now: () => Date;

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

  async createVolume(volumeId: string, sizeGiB: number): Promise<CreateVolumeResult> {
    const id = checkedId(volumeId, 'volume');
    const size = checkedSizeGiB(sizeGiB);
    await this.operate(`create volume ${id}`);
    const existing = this.volumes.get(id);
    if (existing) {
      if (existing.sizeGiB !== size) {
        throw new DriverError(`Volume ${id} already exists with a size of ${existing.sizeGiB} GiB, not ${size} GiB`);
      }
      return { alreadyExisted: true };
    }
    this.volumes.set(id, { sizeGiB: size, snapshots: new Map() });
    return { alreadyExisted: false };
  }

  async createSnapshot(volumeId: string, snapshotId: string): Promise<CreateSnapshotResult> {
    const id = checkedId(volumeId, 'volume');
    const tag = checkedId(snapshotId, 'snapshot');
    await this.operate(`create snapshot ${tag} of volume ${id}`);
    // Everything after the await is synchronous, so two operations on one volume cannot interleave.
    const volume = this.requireVolume(id, `Could not create snapshot ${tag} of volume ${id}`);
    if (volume.snapshots.has(tag)) return { alreadyExisted: true, sizeBytes: null };
    volume.snapshots.set(tag, this.now());
    return { alreadyExisted: false, sizeBytes: null };
  }

  async deleteSnapshot(volumeId: string, snapshotId: string): Promise<DeleteSnapshotResult> {
    const id = checkedId(volumeId, 'volume');
    const tag = checkedId(snapshotId, 'snapshot');
    await this.operate(`delete snapshot ${tag} of volume ${id}`);
    const volume = this.requireVolume(id, `Could not delete snapshot ${tag} of volume ${id}`);
    return { alreadyGone: !volume.snapshots.delete(tag) };
  }

  async listSnapshots(volumeId: string): Promise<VolumeSnapshot[]> {
    const id = checkedId(volumeId, 'volume');
    await this.operate(`list the snapshots of volume ${id}`);
    const volume = this.requireVolume(id, `Could not list the snapshots of volume ${id}`);
    return [...volume.snapshots].map(([tag, createdAt]) => ({ tag, createdAt }));
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

  private requireVolume(id: string, action: string): SimulatedVolume {
    const volume = this.volumes.get(id);
    if (!volume) throw new DriverError(`${action}: the volume does not exist on this host`);
    return volume;
  }
}
