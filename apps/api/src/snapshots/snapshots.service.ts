import { Injectable } from '@nestjs/common';
import { JobName } from '@snapdeck/contracts';
import {
  autoSnapshotName,
  conflict,
  InstanceState,
  isBlankName,
  preconditionFailed,
  SnapshotState,
  uniqueName,
  VolumeState,
} from '@snapdeck/domain';
import {
  ALL_ORGANIZATIONS,
  Database,
  newId,
  type JobEntity,
  type Page,
  type PageRequest,
  type Repositories,
  type SnapshotEntity,
  type SnapshotFilter,
  type VolumeEntity,
} from '@snapdeck/persistence';
import { readScope, type Principal } from '../auth/principal.js';
import { findWritable } from '../common/access.js';
import { assertHostUp } from '../common/hosts.js';
import { enforceLimits } from '../common/limits.js';
import { JobLauncher } from '../orchestration/job-launcher.service.js';
import { openJob, type JobResource } from '../orchestration/open-job.js';
import { volumeStateLabel } from '../instances/instance-disks.js';
import { isCopySource } from './copy-source.js';
import type { CreateSnapshotInput } from './dto/create-snapshot.input.js';

export interface SnapshotOperation {
  snapshot: SnapshotEntity;
  job: JobEntity;
}

@Injectable()
export class SnapshotsService {
  constructor(
    private readonly db: Database,
    private readonly launcher: JobLauncher,
  ) {}

  /**
   * One transaction: the volume READY→SNAPSHOTTING (or CONFLICT), the limits (common/limits.ts), the snapshot IN_PROGRESS and its
   * Job PENDING. Dispatch follows the commit. A volume of a RUNNING instance is snapshotted live (the job names
   * the instance); one of an instance that is STARTING or STOPPING is CONFLICT, its disk is changing hands.
   * `quiesce` needs a RUNNING instance (its guest agent freezes the filesystems): PRECONDITION_FAILED otherwise.
   */
  async create(principal: Principal, input: CreateSnapshotInput): Promise<SnapshotOperation> {
    return this.launcher.commitThenLaunch(async (tx) => {
      const volume = await findWritable(principal, 'Volume', input.volumeId, (scope) =>
        tx.volumes.findById(scope, input.volumeId),
      );
      // Shared until commit, taken before the volume's row: a start, stop or instance snapshot of the instance
      // (which lock it for update) cannot pass this check unseen.
      const instance = volume.instanceId ? await tx.instances.lock(volume.instanceId, 'share') : null;
      if (instance && (instance.state === InstanceState.STARTING || instance.state === InstanceState.STOPPING)) {
        throw conflict(`Instance ${instance.name} is ${instance.state}: its disks are changing hands; try again after`);
      }
      const quiesce = input.quiesce ?? false;
      if (quiesce && instance?.state !== InstanceState.RUNNING) {
        throw preconditionFailed(
          `quiesce needs a running instance with a guest agent: ${
            instance ? `instance ${instance.name} is ${instance.state}` : `volume ${volume.name} is detached`
          }`,
        );
      }
      const host = assertHostUp(await tx.hosts.findById(volume.hostId), 'volume');
      if (!(await tx.volumes.transition(volume.id, [VolumeState.READY], VolumeState.SNAPSHOTTING))) {
        const current = (await tx.volumes.findById(ALL_ORGANIZATIONS, volume.id)) ?? volume;
        throw conflict(`Volume ${volume.name} is ${volumeStateLabel(current)}: one operation per volume at a time`);
      }
      const snapshotId = newId();
      const name = isBlankName(input.name) ? await this.autoName(tx, volume, instance?.name ?? null) : input.name!;
      const resource: JobResource = ['Snapshot', { id: snapshotId, organizationId: volume.organizationId }];
      const job = await openJob(tx, principal, host, resource, JobName.CREATE_SNAPSHOT, {
        volumeId: volume.id,
        snapshotId,
        ...(instance ? { instanceId: instance.id } : {}),
        quiesce,
      });
      // Last before the insert it guards, so the per-organization lock (taken only when a limit is set) is held
      // for the count, one insert and the commit. A snapshot counts its volume's virtual size, as Cinder does.
      await enforceLimits(
        tx,
        volume.organizationId,
        { snapshots: 1, snapshotGiB: volume.sizeGiB },
        { actor: principal.userId, volumeId: volume.id, ...(instance ? { instanceId: instance.id } : {}) },
      );
      const snapshot = await tx.snapshots.create({
        id: snapshotId,
        organizationId: volume.organizationId,
        environmentId: volume.environmentId,
        volumeId: volume.id,
        instanceId: volume.instanceId,
        name,
        description: input.description ?? null,
        state: SnapshotState.IN_PROGRESS,
        lastJobId: job.id,
      });
      return { operation: { snapshot, job }, hostName: host.name };
    });
  }

  /** Answers at once with the snapshot DESTROYING; the row goes when the agent confirms the disk let go. */
  async delete(principal: Principal, snapshotId: string): Promise<SnapshotOperation> {
    return this.launcher.commitThenLaunch(async (tx) => {
      const found = await findWritable(principal, 'Snapshot', snapshotId, (scope) =>
        tx.snapshots.findById(scope, snapshotId),
      );
      // Exclusive until commit: a copy of this snapshot accepted meanwhile has committed its volume or template
      // row by the time this lock is granted (and is refused below), or it waits and then sees DESTROYING.
      const snapshot = (await tx.snapshots.lock(found.id, 'update'))!;
      if (snapshot.state === SnapshotState.IN_PROGRESS) throw conflict('A snapshot in progress cannot be deleted');
      if (snapshot.state === SnapshotState.DESTROYING) throw conflict('The snapshot is being deleted already');
      if (await isCopySource(tx, snapshot.id)) {
        throw conflict('The snapshot is being copied into a template or a volume: wait for the copy to finish');
      }
      const volume = (await tx.volumes.findById(ALL_ORGANIZATIONS, snapshot.volumeId))!;
      const host = assertHostUp(await tx.hosts.findById(volume.hostId), 'snapshot');
      const job = await openJob(tx, principal, host, ['Snapshot', snapshot], JobName.DELETE_SNAPSHOT, {
        volumeId: volume.id,
        snapshotId: snapshot.id,
      });
      const moved = await tx.snapshots.transition(
        snapshot.id,
        [SnapshotState.COMPLETED, SnapshotState.ERROR],
        SnapshotState.DESTROYING,
        {
          lastJobId: job.id,
        },
      );
      if (!moved) throw conflict('The snapshot changed meanwhile; try again');
      const destroying = (await tx.snapshots.findById(readScope(principal), snapshot.id))!;
      return { operation: { snapshot: destroying, job }, hostName: host.name };
    });
  }

  list(principal: Principal, filter: SnapshotFilter, page: PageRequest): Promise<Page<SnapshotEntity>> {
    return this.db.repos.snapshots.list(readScope(principal), filter, page);
  }

  findById(principal: Principal, id: string): Promise<SnapshotEntity | null> {
    return this.db.repos.snapshots.findById(readScope(principal), id);
  }

  /** CloudStack's format; `-2`, `-3`… when one volume gets two snapshots within a second. */
  private async autoName(tx: Repositories, volume: VolumeEntity, instanceName: string | null): Promise<string> {
    const base = autoSnapshotName(instanceName, volume.name, new Date());
    return uniqueName(base, await tx.snapshots.namesOnVolumeStartingWith(volume.id, base));
  }
}
