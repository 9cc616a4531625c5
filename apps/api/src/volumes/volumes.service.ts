import { Injectable } from '@nestjs/common';
import { JobName } from '@snapdeck/contracts';
import { conflict, InstanceState, preconditionFailed, SnapshotState, VolumeState, VolumeType } from '@snapdeck/domain';
import { ALL_ORGANIZATIONS, Database, type JobEntity, type VolumeEntity } from '@snapdeck/persistence';
import type { Principal } from '../auth/principal.js';
import { findWritable } from '../common/access.js';
import { assertHostUp } from '../common/hosts.js';
import { JobLauncher } from '../orchestration/job-launcher.service.js';
import { openJob } from '../orchestration/open-job.js';
import { ProvisioningService, type HostChoice } from '../provisioning/provisioning.service.js';
import type { CreateVolumeFromSnapshotInput } from './dto/volume-operations.input.js';

export interface VolumeOperation {
  volume: VolumeEntity;
  job: JobEntity;
}

@Injectable()
export class VolumesService {
  constructor(
    private readonly db: Database,
    private readonly launcher: JobLauncher,
    private readonly provisioning: ProvisioningService,
  ) {}

  /**
   * Rolls a volume back to one of its snapshots; the snapshot and later ones stay. Only while its instance
   * is STOPPED: reverting a disk under a running guest corrupts it (CloudStack #4356 did nothing silently).
   */
  async revert(principal: Principal, snapshotId: string): Promise<VolumeOperation> {
    return this.launcher.commitThenLaunch(async (tx) => {
      const snapshot = await findWritable(principal, 'Snapshot', snapshotId, (s) =>
        tx.snapshots.findById(s, snapshotId),
      );
      if (snapshot.state !== SnapshotState.COMPLETED)
        throw conflict(`Snapshot ${snapshot.name} is ${snapshot.state}, not COMPLETED`);
      const volume = (await tx.volumes.findById(ALL_ORGANIZATIONS, snapshot.volumeId))!;
      if (volume.instanceId) {
        // Shared until commit, before the volume's row: a startInstance meanwhile waits, then sees REVERTING.
        const instance = (await tx.instances.lock(volume.instanceId, 'share'))!;
        if (instance.state !== InstanceState.STOPPED) {
          throw preconditionFailed(
            `Instance ${instance.name} is ${instance.state}: stop it before reverting its volume`,
          );
        }
      }
      const host = assertHostUp(await tx.hosts.findById(volume.hostId), 'volume');
      if (!(await tx.volumes.transition(volume.id, [VolumeState.READY], VolumeState.REVERTING))) {
        const current = (await tx.volumes.findById(ALL_ORGANIZATIONS, volume.id))!;
        throw conflict(`Volume ${volume.name} is ${current.state}: one operation per volume at a time`);
      }
      const job = await openJob(tx, principal, host, ['Volume', volume], JobName.REVERT_SNAPSHOT, {
        volumeId: volume.id,
        snapshotId: snapshot.id,
      });
      const reverting = (await tx.volumes.findById(ALL_ORGANIZATIONS, volume.id))!;
      return { operation: { volume: reverting, job }, hostName: host.name };
    });
  }

  /** A new DATADISK holding a snapshot's data; on the instance's host when attached, else the snapshot's. */
  async createFromSnapshot(principal: Principal, input: CreateVolumeFromSnapshotInput): Promise<VolumeOperation> {
    const repos = this.db.repos;
    const snapshot = await findWritable(principal, 'Snapshot', input.snapshotId, (s) =>
      repos.snapshots.findById(s, input.snapshotId),
    );
    if (snapshot.state !== SnapshotState.COMPLETED)
      throw conflict(`Snapshot ${snapshot.name} is ${snapshot.state}, not COMPLETED`);
    const source = (await repos.volumes.findById(ALL_ORGANIZATIONS, snapshot.volumeId))!;
    const sourceHost = assertHostUp(await repos.hosts.findById(source.hostId), 'snapshot');
    const instance = input.instanceId
      ? await findWritable(principal, 'Instance', input.instanceId, (s) =>
          repos.instances.findById(s, input.instanceId!),
        )
      : null;
    if (instance && instance.organizationId !== snapshot.organizationId) {
      throw conflict('The snapshot and the instance belong to different organizations');
    }
    if (instance && [InstanceState.CREATING, InstanceState.DESTROYING, InstanceState.ERROR].includes(instance.state)) {
      throw conflict(`Instance ${instance.name} is ${instance.state}`);
    }
    // Attached: on the instance's host, which must have room. Detached: the snapshot's host if it has room (no
    // copy through secondary storage), else any host that has.
    const host: HostChoice = instance?.hostId
      ? { kind: 'instance', hostId: instance.hostId }
      : { kind: 'any', preferHostId: sourceHost.id };
    return this.launcher.commitThenLaunch(async (tx) => {
      const provisioned = await this.provisioning.provision(tx, principal, {
        organizationId: snapshot.organizationId,
        environmentId: instance?.environmentId ?? source.environmentId,
        host,
        instance: instance ? { existing: instance } : null,
        volumes: [
          {
            name: input.name,
            type: VolumeType.DATADISK,
            sizeGiB: source.sizeGiB,
            source: { kind: 'snapshot', snapshot, volume: source, host: sourceHost },
          },
        ],
      });
      return { operation: { volume: provisioned.volumes[0], job: provisioned.job }, hostName: provisioned.hostName };
    });
  }
}
