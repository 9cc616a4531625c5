import { JobName, type VolumeSpec } from '@snapdeck/contracts';
import { EventType, InstanceState, VolumeState } from '@snapdeck/domain';
import type { JobEntity, Repositories, VolumeEntity } from '@snapdeck/persistence';
import { expectMoved } from './expect-moved.js';
import { openFollowUp } from '../open-job.js';
import type { FollowUpJob } from './job-outcome-applier.js';

/** The volumes a provisioning job (resource Instance or Volume) makes. */
export async function volumesOfResource(tx: Repositories, job: JobEntity): Promise<VolumeEntity[]> {
  if (job.resourceType === 'Instance') return tx.volumes.findByInstance(job.resourceId);
  const volume = await tx.volumes.findById({ kind: 'all' }, job.resourceId);
  return volume ? [volume] : [];
}

/** Ends provisioning: volumes READY and the instance STOPPED, or all of them ERROR, with an event. */
export async function finishProvisioning(
  tx: Repositories,
  job: JobEntity,
  volumeIds: readonly string[],
  outcome: { ok: true } | { ok: false; message: string },
): Promise<void> {
  const moved = await tx.volumes.transitionMany(
    volumeIds,
    [VolumeState.CREATING],
    outcome.ok ? VolumeState.READY : VolumeState.ERROR,
  );
  expectMoved(job, 'volumes', moved, volumeIds.length);
  if (job.resourceType === 'Instance') {
    const instanceState = outcome.ok ? InstanceState.STOPPED : InstanceState.ERROR;
    expectMoved(
      job,
      'instance',
      await tx.instances.transition(job.resourceId, [InstanceState.CREATING], instanceState),
    );
  }
  const instance = job.resourceType === 'Instance';
  await tx.events.record({
    organizationId: job.organizationId,
    actorUserId: job.createdByUserId,
    type: outcome.ok
      ? instance
        ? EventType.INSTANCE_CREATED
        : EventType.VOLUME_CREATED
      : instance
        ? EventType.INSTANCE_FAILED
        : EventType.VOLUME_FAILED,
    resourceType: job.resourceType,
    resourceId: job.resourceId,
    message: outcome.ok ? `${volumeIds.length} volume(s) provisioned` : `Provisioning failed: ${outcome.message}`,
    details: { jobId: job.id },
  });
}

/**
 * The second step of a copy across hosts: the snapshot is in secondary storage now, and the agent of the
 * target host makes the volumes from it (and removes the transfer file).
 */
export async function provisionFromTransfer(
  tx: Repositories,
  job: JobEntity,
  transfer: string,
): Promise<FollowUpJob[]> {
  const volumes = (await volumesOfResource(tx, job)).filter((v) => v.state === VolumeState.CREATING);
  if (volumes.length === 0) return [];
  const host = (await tx.hosts.findById(volumes[0].hostId))!;
  const specs: VolumeSpec[] = volumes.map((v) => ({
    volumeId: v.id,
    sizeGiB: v.sizeGiB,
    source: v.sourceSnapshotId ? { kind: 'secondary', path: transfer, removeAfter: true } : { kind: 'blank' },
  }));
  const next = await openFollowUp(tx, job, host, JobName.CREATE_VOLUMES, { volumes: specs });
  return [{ job: next, hostName: host.name }];
}
