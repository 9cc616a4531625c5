import { Injectable } from '@nestjs/common';
import { JobName } from '@snapdeck/contracts';
import {
  autoInstanceSnapshotName,
  badInput,
  conflict,
  diskDevice,
  diskOrder,
  InstanceState,
  isBlankName,
  notFound,
  preconditionFailed,
  SnapshotState,
  uniqueName,
  VolumeState,
} from '@snapdeck/domain';
import {
  ALL_ORGANIZATIONS,
  Database,
  newId,
  type InstanceEntity,
  type InstanceSnapshotEntity,
  type InstanceSnapshotFilter,
  type JobEntity,
  type Page,
  type PageRequest,
  type Repositories,
} from '@snapdeck/persistence';
import { readScope, type Principal } from '../auth/principal.js';
import { findWritable } from '../common/access.js';
import { enforceLimits } from '../common/limits.js';
import { assertDisksReady, assertInstanceIn, volumeStateLabel } from '../instances/instance-disks.js';
import { hostOfInstance, lockWritableInstance } from '../instances/instance-locks.js';
import { JobLauncher } from '../orchestration/job-launcher.service.js';
import { openJob, type JobResource } from '../orchestration/open-job.js';
import type { CreateInstanceSnapshotInput } from './dto/instance-snapshot.inputs.js';

export interface InstanceSnapshotOperation {
  instanceSnapshot: InstanceSnapshotEntity;
  job: JobEntity;
}

export interface InstanceRevertOperation {
  instance: InstanceEntity;
  job: JobEntity;
}

/**
 * Instance snapshots (the contract's InstanceSnapshot): every volume of an instance at one instant. Each operation
 * locks the instance row for update first, then moves the volumes, so it excludes a start, a stop, another
 * instance snapshot operation and (through their shared lock) a snapshot or revert of one of the volumes. The
 * product calls it a "recovery point" in its messages (clients and tests match them), so those keep the word.
 */
@Injectable()
export class InstanceSnapshotsService {
  constructor(
    private readonly db: Database,
    private readonly launcher: JobLauncher,
  ) {}

  /**
   * A RUNNING or STOPPED instance (RUNNING for withMemory or quiesce, never both: BAD_USER_INPUT) whose volumes
   * are all READY: they go
   * SNAPSHOTTING for the duration (a snapshot or revert of one of them meanwhile is CONFLICT), the recovery
   * instance snapshot IN_PROGRESS, its job PENDING.
   */
  async create(principal: Principal, input: CreateInstanceSnapshotInput): Promise<InstanceSnapshotOperation> {
    const withMemory = input.withMemory ?? false;
    const quiesce = input.quiesce ?? false;
    if (withMemory && quiesce) {
      // libvirt saves the frozen guest with its memory: it would come back frozen after every revert.
      throw badInput(
        'withMemory and quiesce cannot be combined: a memory recovery point is consistent without freezing the ' +
          'guest, and a frozen guest would be saved frozen; ask for one or the other',
        'quiesce',
      );
    }
    return this.launcher.commitThenLaunch(async (tx) => {
      const instance = await lockWritableInstance(tx, principal, input.instanceId);
      if (instance.state === InstanceState.STOPPED && (withMemory || quiesce)) {
        const asked = withMemory ? 'withMemory needs' : 'quiesce needs';
        throw preconditionFailed(`${asked} a RUNNING instance: ${instance.name} is STOPPED`);
      }
      assertInstanceIn(
        instance,
        [InstanceState.RUNNING, InstanceState.STOPPED],
        'a recovery point needs a RUNNING or STOPPED instance',
      );
      const host = await hostOfInstance(tx, instance);
      const volumes = diskOrder(await tx.volumes.findByInstance(instance.id));
      assertDisksReady(volumes, 'a recovery point');
      const volumeIds = volumes.map((v) => v.id);
      const moved = await tx.volumes.transitionMany(volumeIds, [VolumeState.READY], VolumeState.SNAPSHOTTING);
      if (moved !== volumeIds.length) throw conflict('A volume of this instance became busy: try again');
      const instanceSnapshotId = newId();
      const name = isBlankName(input.name) ? await this.autoName(tx, instance) : input.name!;
      const resource: JobResource = [
        'InstanceSnapshot',
        { id: instanceSnapshotId, organizationId: instance.organizationId },
      ];
      const job = await openJob(tx, principal, host, resource, JobName.CREATE_INSTANCE_SNAPSHOT, {
        instanceId: instance.id,
        volumeIds,
        instanceSnapshotId,
        withMemory,
        quiesce,
      });
      // Last before the insert it guards (the limit lock is then held the least). An instance snapshot counts as
      // one snapshot per disk it holds, each with its disk's virtual size: on disk it is an internal qcow2
      // snapshot in every one of those volumes, exactly what as many volume snapshots would be (and Cinder
      // counts a group snapshot's members the same way).
      await enforceLimits(
        tx,
        instance.organizationId,
        {
          snapshots: volumes.length,
          snapshotGiB: volumes.reduce((sum, v) => sum + v.sizeGiB, 0),
        },
        { actor: principal.userId, instanceId: instance.id },
      );
      const instanceSnapshot = await tx.instanceSnapshots.create({
        id: instanceSnapshotId,
        organizationId: instance.organizationId,
        environmentId: instance.environmentId,
        instanceId: instance.id,
        volumeIds,
        name,
        description: input.description ?? null,
        state: SnapshotState.IN_PROGRESS,
        withMemory,
        lastJobId: job.id,
        configuration: {
          cpuCount: instance.cpuCount,
          memoryMiB: instance.memoryMiB,
          memorySaved: withMemory,
          disks: volumes.map((v, i) => ({ volumeId: v.id, name: v.name, device: diskDevice(i), sizeGiB: v.sizeGiB })),
        },
      });
      return { operation: { instanceSnapshot, job }, hostName: host.name };
    });
  }

  /**
   * Brings every disk (and the memory, if saved) back to a COMPLETED instance snapshot. The instance must be
   * RUNNING or STOPPED (STOPPED for an instance snapshot without memory) with the same disks as then (a disk added since
   * cannot be reverted), else PRECONDITION_FAILED; all READY; they go REVERTING. The instance ends RUNNING if asked (startAfter), else STOPPED.
   */
  async revert(
    principal: Principal,
    instanceSnapshotId: string,
    startAfter: boolean,
  ): Promise<InstanceRevertOperation> {
    return this.launcher.commitThenLaunch(async (tx) => {
      const found = await this.findWritableInstanceSnapshot(tx, principal, instanceSnapshotId);
      const instance = (await tx.instances.lock(found.instanceId, 'update'))!;
      const instanceSnapshot = await this.lockInstanceSnapshot(tx, found.id);
      if (instanceSnapshot.state !== SnapshotState.COMPLETED) {
        throw conflict(`Recovery point ${instanceSnapshot.name} is ${instanceSnapshot.state}, not COMPLETED`);
      }
      assertInstanceIn(
        instance,
        [InstanceState.RUNNING, InstanceState.STOPPED],
        'a revert needs it RUNNING or STOPPED',
      );
      if (!instanceSnapshot.withMemory && instance.state === InstanceState.RUNNING) {
        throw preconditionFailed(
          `Recovery point ${instanceSnapshot.name} has no memory: it can be reverted only while instance ${instance.name} is ` +
            'STOPPED (the hypervisor cannot replace a running disk under the guest); stop it first',
        );
      }
      const host = await hostOfInstance(tx, instance);
      const volumes = await tx.volumes.findByInstance(instance.id);
      const added = volumes.filter((v) => !instanceSnapshot.volumeIds.includes(v.id));
      if (added.length > 0) {
        throw preconditionFailed(
          `Recovery point ${instanceSnapshot.name} does not hold volume(s) ${added.map((v) => v.name).join(', ')} of ` +
            `instance ${instance.name}, attached after it was taken: the hypervisor cannot revert those disks`,
        );
      }
      if (volumes.length !== instanceSnapshot.volumeIds.length) {
        throw preconditionFailed(`Some volumes of recovery point ${instanceSnapshot.name} no longer exist`);
      }
      assertDisksReady(volumes, 'a revert');
      const moved = await tx.volumes.transitionMany(
        instanceSnapshot.volumeIds,
        [VolumeState.READY],
        VolumeState.REVERTING,
      );
      if (moved !== instanceSnapshot.volumeIds.length)
        throw conflict('A volume of this instance became busy: try again');
      const job = await openJob(tx, principal, host, ['Instance', instance], JobName.REVERT_INSTANCE_SNAPSHOT, {
        instanceId: instance.id,
        volumeIds: instanceSnapshot.volumeIds,
        instanceSnapshotId: instanceSnapshot.id,
        startAfter,
      });
      return { operation: { instance, job }, hostName: host.name };
    });
  }

  /**
   * Answers at once with the instance snapshot DESTROYING; the row goes when the hypervisor confirms. IN_PROGRESS
   * or DESTROYING is CONFLICT, as is a delete while the instance's disks are being snapshotted or reverted.
   */
  async delete(principal: Principal, instanceSnapshotId: string): Promise<InstanceSnapshotOperation> {
    return this.launcher.commitThenLaunch(async (tx) => {
      const found = await this.findWritableInstanceSnapshot(tx, principal, instanceSnapshotId);
      // Shared: a delete does not change the instance, but must not pass a revert or a new instance snapshot.
      const instance = (await tx.instances.lock(found.instanceId, 'share'))!;
      const instanceSnapshot = await this.lockInstanceSnapshot(tx, found.id);
      if (instanceSnapshot.state === SnapshotState.IN_PROGRESS)
        throw conflict('A recovery point in progress cannot be deleted');
      if (instanceSnapshot.state === SnapshotState.DESTROYING)
        throw conflict('The recovery point is being deleted already');
      assertInstanceIn(
        instance,
        [InstanceState.RUNNING, InstanceState.STOPPED, InstanceState.ERROR],
        'wait for it to settle before deleting a recovery point',
      );
      const volumes = await tx.volumes.findByInstance(instance.id);
      const busy = volumes.find((v) => v.state === VolumeState.SNAPSHOTTING || v.state === VolumeState.REVERTING);
      if (busy) {
        throw conflict(`Volume ${busy.name} is ${volumeStateLabel(busy)}: wait for it to finish`);
      }
      const host = await hostOfInstance(tx, instance);
      const job = await openJob(
        tx,
        principal,
        host,
        ['InstanceSnapshot', instanceSnapshot],
        JobName.DELETE_INSTANCE_SNAPSHOT,
        {
          instanceId: instance.id,
          volumeIds: instanceSnapshot.volumeIds,
          instanceSnapshotId: instanceSnapshot.id,
        },
      );
      const moved = await tx.instanceSnapshots.transition(
        instanceSnapshot.id,
        [SnapshotState.COMPLETED, SnapshotState.ERROR],
        SnapshotState.DESTROYING,
        { lastJobId: job.id },
      );
      if (!moved) throw conflict('The recovery point changed meanwhile; try again');
      const destroying = (await tx.instanceSnapshots.findById(ALL_ORGANIZATIONS, instanceSnapshot.id))!;
      return { operation: { instanceSnapshot: destroying, job }, hostName: host.name };
    });
  }

  list(principal: Principal, filter: InstanceSnapshotFilter, page: PageRequest): Promise<Page<InstanceSnapshotEntity>> {
    return this.db.repos.instanceSnapshots.list(readScope(principal), filter, page);
  }

  private findWritableInstanceSnapshot(
    tx: Repositories,
    principal: Principal,
    id: string,
  ): Promise<InstanceSnapshotEntity> {
    return findWritable(principal, 'InstanceSnapshot', id, (s) => tx.instanceSnapshots.findById(s, id));
  }

  /** Locked after the instance (always in that order), and read as committed now. */
  private async lockInstanceSnapshot(tx: Repositories, id: string): Promise<InstanceSnapshotEntity> {
    const instanceSnapshot = await tx.instanceSnapshots.lock(id);
    if (!instanceSnapshot) throw notFound('InstanceSnapshot', id);
    return instanceSnapshot;
  }

  /** `<instanceName>_VS_<yyyyMMddHHmmss>`; `-2`, `-3`… when one instance gets two within a second. */
  private async autoName(tx: Repositories, instance: InstanceEntity): Promise<string> {
    const base = autoInstanceSnapshotName(instance.name, new Date());
    return uniqueName(base, await tx.instanceSnapshots.namesOnInstanceStartingWith(instance.id, base));
  }
}
