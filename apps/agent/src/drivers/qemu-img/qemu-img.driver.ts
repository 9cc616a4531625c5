import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { access, link, mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { checkedId, checkedSizeGiB, GIB } from '../driver-input.js';
import { KeyedMutex } from '../keyed-mutex.js';
import {
  type CreateSnapshotResult,
  type CreateVolumeResult,
  type DeleteSnapshotResult,
  DriverError,
  VolumeDriver,
  type VolumeSnapshot,
} from '../volume-driver.js';
import { errorCode, fsFailure } from './fs-errors.js';
import { describeQemuImgFailure } from './qemu-img-errors.js';
import { parseQemuImgInfo, type QcowImageInfo } from './qemu-img-info.js';
import { QemuImgProcessError, QemuImgRunner } from './qemu-img-runner.js';

export interface QemuImgDriverOptions {
  /** AGENT_STORAGE_DIR; volumes live in `<storageDir>/volumes/<volumeId>.qcow2` (public contract). */
  storageDir: string;
  runner?: QemuImgRunner;
}

/** Offline operations on qcow2 files with qemu-img; a volume snapshot is an internal snapshot tagged with its id. */
export class QemuImgDriver extends VolumeDriver {
  readonly name = 'qemu-img' as const;
  readonly volumesDir: string;
  private readonly runner: QemuImgRunner;
  /** qcow2 takes a write lock per file: operations on one volume run one at a time inside this agent. */
  private readonly locks = new KeyedMutex();

  constructor(options: QemuImgDriverOptions) {
    super();
    this.volumesDir = resolve(options.storageDir, 'volumes');
    this.runner = options.runner ?? new QemuImgRunner();
  }

  async init(): Promise<void> {
    const action = 'Primary storage is not usable';
    try {
      await mkdir(this.volumesDir, { recursive: true });
      await access(this.volumesDir, constants.R_OK | constants.W_OK);
    } catch (error) {
      throw fsFailure(action, error);
    }
    await this.qemuImg(['--version'], 'qemu-img cannot run', new Map());
  }

  /** Path of a volume's file; the id is validated first so no crafted id can point outside the folder. */
  volumePath(volumeId: string): string {
    return join(this.volumesDir, `${checkedId(volumeId, 'volume')}.qcow2`);
  }

  async volumeExists(volumeId: string): Promise<boolean> {
    return fileExists(this.volumePath(volumeId));
  }

  async createVolume(volumeId: string, sizeGiB: number): Promise<CreateVolumeResult> {
    const id = checkedId(volumeId, 'volume');
    const size = checkedSizeGiB(sizeGiB);
    const action = `Could not create volume ${id}`;
    return this.locks.run(id, async () => {
      const finalPath = this.volumePath(id);
      if (await fileExists(finalPath)) {
        await this.checkSameSize(id, size);
        return { alreadyExisted: true };
      }
      // Build under a temporary name, then publish it with link(): a crash never leaves a half-made image
      // under the final name, and link (unlike rename) never replaces a file someone else made meanwhile.
      const partial = `${finalPath}.partial-${randomUUID()}`;
      try {
        await this.removeLeftovers(id, action);
        await this.qemuImg(['create', '-q', '-f', 'qcow2', partial, `${size}G`], action, this.labels(id, partial));
        await syncPath(partial).catch((error: unknown) => {
          throw fsFailure(action, error);
        });
        try {
          await link(partial, finalPath);
        } catch (error) {
          if (errorCode(error) !== 'EEXIST') throw fsFailure(action, error);
          await this.checkSameSize(id, size);
          return { alreadyExisted: true };
        }
        // The new directory entry must survive a power cut too, or a reported volume could vanish.
        await syncPath(this.volumesDir).catch(() => undefined);
        return { alreadyExisted: false };
      } finally {
        await rm(partial, { force: true });
      }
    });
  }

  async createSnapshot(volumeId: string, snapshotId: string): Promise<CreateSnapshotResult> {
    const id = checkedId(volumeId, 'volume');
    const tag = checkedId(snapshotId, 'snapshot');
    const action = `Could not create snapshot ${tag} of volume ${id}`;
    return this.locks.run(id, async () => {
      await this.requireVolume(id, action);
      // qemu-img accepts a second snapshot with the same tag, so a repeated delivery is caught here.
      if (countTag(await this.info(id, action), tag) > 0) return { alreadyExisted: true, sizeBytes: null };
      await this.qemuImg(['snapshot', '-q', '-c', tag, this.volumePath(id)], action, this.labels(id));
      if (countTag(await this.info(id, action), tag) === 0) {
        throw new DriverError(`${action}: qemu-img reported success but the snapshot is not in the image`);
      }
      return { alreadyExisted: false, sizeBytes: null };
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
      for (let i = 0; i < copies; i++) {
        await this.qemuImg(['snapshot', '-q', '-d', tag, this.volumePath(id)], action, this.labels(id));
      }
      if (countTag(await this.info(id, action), tag) > 0) {
        throw new DriverError(`${action}: qemu-img reported success but the snapshot is still in the image`);
      }
      return { alreadyGone: false };
    });
  }

  async listSnapshots(volumeId: string): Promise<VolumeSnapshot[]> {
    const id = checkedId(volumeId, 'volume');
    const action = `Could not list the snapshots of volume ${id}`;
    return this.locks.run(id, async () => {
      await this.requireVolume(id, action);
      const info = await this.info(id, action);
      return info.snapshots.map(({ tag, createdAt }) => ({ tag, createdAt }));
    });
  }

  private async info(id: string, action: string): Promise<QcowImageInfo> {
    const stdout = await this.qemuImg(
      ['info', '-f', 'qcow2', '--output=json', this.volumePath(id)],
      action,
      this.labels(id),
    );
    try {
      return parseQemuImgInfo(stdout);
    } catch (error) {
      throw new DriverError(`${action}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** An existing file is the same volume only if it is a qcow2 of the requested size; otherwise ids collided. */
  private async checkSameSize(id: string, sizeGiB: number): Promise<void> {
    const info = await this.info(id, `Volume ${id} exists but cannot be read`);
    if (info.virtualSizeBytes !== sizeGiB * GIB) {
      const actual = Math.round((info.virtualSizeBytes / GIB) * 100) / 100;
      throw new DriverError(`Volume ${id} already exists with a size of ${actual} GiB, not ${sizeGiB} GiB`);
    }
  }

  private async requireVolume(id: string, action: string): Promise<void> {
    if (!(await fileExists(this.volumePath(id)))) {
      throw new DriverError(`${action}: the volume does not exist on this host`);
    }
  }

  /** Temporary files of an earlier attempt that crashed before it could clean up. */
  private async removeLeftovers(id: string, action: string): Promise<void> {
    try {
      await mkdir(this.volumesDir, { recursive: true });
      const prefix = `${id}.qcow2.partial-`;
      const names = (await readdir(this.volumesDir)).filter((name) => name.startsWith(prefix));
      await Promise.all(names.map((name) => rm(join(this.volumesDir, name), { force: true })));
    } catch (error) {
      throw fsFailure(action, error);
    }
  }

  /** Host paths in qemu-img's messages are replaced by these labels before they leave the agent. */
  private labels(id: string, partial?: string): Map<string, string> {
    const labels = new Map([
      [this.volumePath(id), `volume ${id}`],
      [this.volumesDir, 'primary storage'],
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
      throw new DriverError(`${action}: ${described.message}`, described.retryable);
    }
  }
}

function countTag(info: QcowImageInfo, tag: string): number {
  return info.snapshots.filter((snapshot) => snapshot.tag === tag).length;
}

async function fileExists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return false;
    throw fsFailure('Could not read primary storage', error);
  }
}

/** fsync of a file or a directory (Linux allows both through a read-only descriptor). */
async function syncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
