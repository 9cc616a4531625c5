import { Injectable } from '@nestjs/common';
import { JobName, templatePath, transferPath, type VolumeSource } from '@snapdeck/contracts';
import {
  conflict,
  InstanceState,
  notFound,
  preconditionFailed,
  SnapshotState,
  TemplateState,
  VolumeState,
  VolumeType,
} from '@snapdeck/domain';
import {
  Database,
  type HostEntity,
  type InstanceEntity,
  type JobEntity,
  type Repositories,
  type SnapshotEntity,
  type TemplateEntity,
  type VolumeEntity,
} from '@snapdeck/persistence';
import type { Principal } from '../auth/principal.js';
import { assertHostUp } from '../common/hosts.js';

/** Where one new volume's data comes from. */
export type PlannedSource =
  | { kind: 'blank' }
  | { kind: 'template'; template: TemplateEntity }
  | { kind: 'snapshot'; snapshot: SnapshotEntity; volume: VolumeEntity; host: HostEntity };

export interface PlannedVolume {
  name: string;
  type: VolumeType;
  sizeGiB: number;
  source: PlannedSource;
}

export interface ProvisioningPlan {
  organizationId: string;
  environmentId: string;
  host: HostEntity;
  /** A new instance to hold the volumes, or an existing one to attach them to, or none (a detached volume). */
  instance: { create: string } | { existing: InstanceEntity } | null;
  volumes: PlannedVolume[];
}

export interface Provisioned {
  instance: InstanceEntity | null;
  volumes: VolumeEntity[];
  job: JobEntity;
  hostName: string;
}

/**
 * Makes new volumes (and the instance that holds them) on a host: rows CREATING in the caller's transaction
 * and the job that fills them. Data from a snapshot on another host goes through secondary storage in two
 * steps (export there, then copy here); the second step is started by the first one's result.
 */
@Injectable()
export class ProvisioningService {
  constructor(private readonly db: Database) {}

  /** The named host if it is UP, or the UP host with the fewest volumes. */
  async placement(hostId: string | null | undefined): Promise<HostEntity> {
    if (hostId) {
      const host = await this.db.repos.hosts.findById(hostId);
      if (!host) throw notFound('Host', hostId);
      return assertHostUp(host, 'instance');
    }
    const host = await this.db.repos.hosts.findLeastLoadedUpHost();
    if (!host) throw preconditionFailed('No host is UP to place the volumes on');
    return host;
  }

  async provision(tx: Repositories, principal: Principal, plan: ProvisioningPlan): Promise<Provisioned> {
    await lockSources(tx, plan.volumes);
    const instance =
      plan.instance && 'create' in plan.instance
        ? await tx.instances.create({
            organizationId: plan.organizationId,
            environmentId: plan.environmentId,
            hostId: plan.host.id,
            name: plan.instance.create,
            state: InstanceState.CREATING,
          })
        : (plan.instance?.existing ?? null);
    const volumes = await tx.volumes.createMany(
      plan.volumes.map((v) => ({
        organizationId: plan.organizationId,
        environmentId: plan.environmentId,
        instanceId: instance?.id ?? null,
        hostId: plan.host.id,
        name: v.name,
        type: v.type,
        state: VolumeState.CREATING,
        sizeGiB: v.sizeGiB,
        sourceSnapshotId: v.source.kind === 'snapshot' ? v.source.snapshot.id : null,
        sourceTemplateId: v.source.kind === 'template' ? v.source.template.id : null,
      })),
    );
    const resource =
      instance && plan.instance && 'create' in plan.instance
        ? { resourceType: 'Instance', resourceId: instance.id }
        : { resourceType: 'Volume', resourceId: volumes[0].id };
    const common = { organizationId: plan.organizationId, createdByUserId: principal.userId, ...resource };

    const remote = plan.volumes.find(
      (v): v is PlannedVolume & { source: Extract<PlannedSource, { kind: 'snapshot' }> } =>
        v.source.kind === 'snapshot' && v.source.host.id !== plan.host.id,
    );
    if (remote) {
      const { snapshot, volume, host } = remote.source;
      const job = await tx.jobs.create({
        ...common,
        type: JobName.EXPORT_SNAPSHOT,
        hostId: host.id,
        payload: { volumeId: volume.id, snapshotId: snapshot.id, destination: transferPath(resource.resourceId) },
      });
      return { instance, volumes, job, hostName: host.name };
    }
    const job = await tx.jobs.create({
      ...common,
      type: JobName.CREATE_VOLUMES,
      hostId: plan.host.id,
      payload: {
        volumes: volumes.map((v, i) => ({
          volumeId: v.id,
          sizeGiB: v.sizeGiB,
          source: sourceOf(plan.volumes[i].source),
        })),
      },
    });
    return { instance, volumes, job, hostName: plan.host.name };
  }
}

function sourceOf(source: PlannedSource): VolumeSource {
  switch (source.kind) {
    case 'blank':
      return { kind: 'blank' };
    case 'template':
      return { kind: 'secondary', path: templatePath(source.template.id) };
    case 'snapshot':
      return { kind: 'snapshot', volumeId: source.volume.id, snapshotId: source.snapshot.id };
  }
}

/**
 * Holds every source of the copy (share lock) until the transaction commits, checked as it is now: a delete
 * of the snapshot or template (update lock) waits for this, then sees the copy and refuses; or it came first,
 * and the copy is refused here.
 */
async function lockSources(tx: Repositories, volumes: readonly PlannedVolume[]): Promise<void> {
  for (const { source } of volumes) {
    if (source.kind === 'snapshot') {
      const snapshot = await tx.snapshots.lock(source.snapshot.id, 'share');
      if (snapshot?.state !== SnapshotState.COMPLETED) {
        throw conflict(`Snapshot ${source.snapshot.name} is ${snapshot?.state ?? 'gone'}, not COMPLETED`);
      }
    } else if (source.kind === 'template') {
      const template = await tx.templates.lock(source.template.id, 'share');
      if (template?.state !== TemplateState.READY) {
        throw conflict(`Template ${source.template.name} is ${template?.state ?? 'gone'}, not READY`);
      }
    }
  }
}
