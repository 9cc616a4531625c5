import { performance } from 'node:perf_hooks';
import { DriverError } from '../volume-driver.js';
import { checkTag, type DomainDisks, type VolumeRef } from './domain-disks.js';
import type { LibvirtDomains } from './domains.js';
import { elapsed, thaw, withQuiesce } from './quiesce.js';
import { QmpError } from './virsh.js';

export interface LiveSnapshotOptions {
  /** Freeze the guest's file systems through the guest agent around the snapshot; fail if it does not answer. */
  quiesce?: boolean;
}

export interface LiveSnapshotResult {
  /** The tag was there already (a repeated delivery): nothing was taken, the guest was not frozen. */
  alreadyExisted: boolean;
  /** This call froze the guest's file systems around the snapshot. */
  quiesced: boolean;
  /**
   * How long the guest's writes were held: freeze → thaw when quiesced, else the snapshot command's duration as
   * virsh measures it (`virsh -t`: libvirtd → QEMU monitor → answer; an upper bound, since QEMU drains only this
   * disk and the vCPUs keep running). 0 when alreadyExisted.
   */
  guestPauseMs: number;
  /** The whole call. */
  durationMs: number;
  target: string;
  nodeName: string;
}

export interface DeleteLiveSnapshotResult {
  alreadyGone: boolean;
}

/**
 * Volume snapshots of a running domain's disk: QEMU internal snapshots, taken and deleted live through QMP, the
 * same qcow2 snapshots the offline qemu-img driver makes. See docs/live-snapshots.md.
 */
export class LiveVolumeSnapshots {
  constructor(
    private readonly domains: LibvirtDomains,
    private readonly disks: DomainDisks,
  ) {}

  /**
   * A live volume snapshot: QMP blockdev-snapshot-internal-sync on the disk's format node, tagged `tag`. See
   * docs/live-snapshots.md. Throws InstanceNotRunningError when the domain is not running (take it offline then).
   */
  async create(
    instanceId: string,
    volume: VolumeRef,
    tag: string,
    options: LiveSnapshotOptions = {},
  ): Promise<LiveSnapshotResult> {
    checkTag(tag, 'snapshot tag');
    const start = performance.now();
    const domain = await this.domains.liveDomain(instanceId);
    const disk = await this.disks.live(instanceId, domain, volume);
    const nodeName = disk.nodeName as string;
    if (disk.tags.includes(tag)) {
      // A repeated delivery. With quiesce, the tag exists only if the first try's freeze worked, so the snapshot
      // is quiesced; and that try may have died before its thaw: thaw once more (a no-op on a thawed guest).
      const quiesce = options.quiesce === true;
      if (quiesce) await thaw(this.domains.virsh, domain).catch(() => undefined);
      return {
        alreadyExisted: true,
        quiesced: quiesce,
        guestPauseMs: 0,
        durationMs: elapsed(start),
        target: disk.target,
        nodeName,
      };
    }
    let alreadyExisted = false;
    const { quiesced, guestPauseMs } = await withQuiesce(
      this.domains.virsh,
      instanceId,
      domain,
      options.quiesce === true,
      () =>
        this.domains
          .qmpLive(instanceId, domain, 'blockdev-snapshot-internal-sync', { device: nodeName, name: tag })
          .then(
            (reply) => reply.commandMs,
            (error: unknown) => {
              if (error instanceof QmpError && /already exists/i.test(error.desc)) {
                alreadyExisted = true;
                return undefined;
              }
              throw error;
            },
          ),
    );
    const after = await this.disks.live(instanceId, domain, disk.target);
    if (!after.tags.includes(tag)) {
      throw new DriverError(
        `QEMU reported success but disk ${disk.target} of instance ${instanceId} has no snapshot ${tag}`,
      );
    }
    return { alreadyExisted, quiesced, guestPauseMs, durationMs: elapsed(start), target: disk.target, nodeName };
  }

  /** Deletes a live volume snapshot (blockdev-snapshot-delete-internal-sync); a missing tag is alreadyGone. */
  async delete(instanceId: string, volume: VolumeRef, tag: string): Promise<DeleteLiveSnapshotResult> {
    checkTag(tag, 'snapshot tag');
    const domain = await this.domains.liveDomain(instanceId);
    const disk = await this.disks.live(instanceId, domain, volume);
    if (!disk.tags.includes(tag)) return { alreadyGone: true };
    try {
      await this.domains.qmpLive(instanceId, domain, 'blockdev-snapshot-delete-internal-sync', {
        device: disk.nodeName,
        name: tag,
      });
    } catch (error) {
      if (error instanceof QmpError && /does not exist/i.test(error.desc)) return { alreadyGone: true };
      throw error;
    }
    return { alreadyGone: false };
  }

  /** The internal snapshot tags of one disk of a running instance, as QEMU sees them. */
  async list(instanceId: string, volume: VolumeRef): Promise<string[]> {
    const domain = await this.domains.liveDomain(instanceId);
    return (await this.disks.live(instanceId, domain, volume)).tags;
  }
}
