import { Inject, Injectable } from '@nestjs/common';
import { JobName, templatePath, transferPath, type BackupLocation, type VolumeSource } from '@snapdeck/contracts';
import {
  conflict,
  InstanceState,
  type InstanceSize,
  MAX_DATA_DISKS,
  notFound,
  preconditionFailed,
  SnapshotState,
  TemplateState,
  VolumeState,
  VolumeType,
} from '@snapdeck/domain';
import {
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
import { enforceLimits } from '../common/limits.js';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { openJob, type JobResource } from '../orchestration/open-job.js';

/** Where one new volume's data comes from. */
export type PlannedSource =
  | { kind: 'blank' }
  /** A disk of a backup (restoreBackup into a new instance): written by RESTORE_BACKUP from the plan's chain. */
  | { kind: 'backup'; sourceVolumeId: string }
  | { kind: 'template'; template: TemplateEntity }
  | { kind: 'snapshot'; snapshot: SnapshotEntity; volume: VolumeEntity; host: HostEntity };

export interface PlannedVolume {
  name: string;
  type: VolumeType;
  sizeGiB: number;
  source: PlannedSource;
}

/**
 * Where the new volumes go: a host the caller named (NOT_FOUND if unknown), the host of the instance they are
 * attached to, or any UP host with room (the preferred one first, if it has room: the snapshot's own host saves
 * a copy through secondary storage). Decided inside the transaction, under the chosen host's lock.
 */
export type HostChoice =
  { kind: 'named'; hostId: string } | { kind: 'instance'; hostId: string } | { kind: 'any'; preferHostId?: string };

export interface ProvisioningPlan {
  organizationId: string;
  environmentId: string;
  host: HostChoice;
  /** A new instance to hold the volumes, or an existing one to attach them to, or none (a detached volume). */
  instance: { create: string; size: InstanceSize } | { existing: InstanceEntity } | null;
  volumes: PlannedVolume[];
  /** Restoring a backup: the volumes (all of kind `backup`) are written by one RESTORE_BACKUP job from this chain. */
  restore?: { chain: BackupLocation[]; probeTimeoutSeconds: number };
}

export interface Provisioned {
  instance: InstanceEntity | null;
  volumes: VolumeEntity[];
  job: JobEntity;
  hostName: string;
}

const GIB = 1024 ** 3;

/**
 * Makes new volumes (and the instance that holds them) on a host: rows CREATING in the caller's transaction
 * and the job that fills them. Data from a snapshot on another host goes through secondary storage in two
 * steps (export there, then copy here); the second step is started by the first one's result.
 */
@Injectable()
export class ProvisioningService {
  constructor(@Inject(API_CONFIG) private readonly config: ApiConfig) {}

  /**
   * Locks, in this order (every request that takes several of them takes them in this order): the instance the
   * volumes are attached to, the sources of the copies, the organization's limits, the host. Then inserts.
   */
  async provision(tx: Repositories, principal: Principal, plan: ProvisioningPlan): Promise<Provisioned> {
    const requestedGiB = plan.volumes.reduce((sum, v) => sum + v.sizeGiB, 0);
    if (plan.instance && 'existing' in plan.instance) await assertCanAttach(tx, plan.instance.existing, plan.volumes);
    await lockSources(tx, plan.volumes);
    await enforceLimits(
      tx,
      plan.organizationId,
      {
        instances: plan.instance && 'create' in plan.instance ? 1 : 0,
        volumeGiB: requestedGiB,
      },
      { actor: principal.userId },
    );
    const host = await this.place(tx, plan.host, requestedGiB);
    return this.insert(tx, principal, plan, host);
  }

  /**
   * A host with room for `requestedGiB` more: the virtual GiB of the volumes on it plus the request may reach its
   * storage's total size times STORAGE_OVERCOMMIT_RATIO. The host is locked until commit and counted again under
   * the lock, so concurrent placements never overfill it. PRECONDITION_FAILED when no host has the room.
   */
  private async place(tx: Repositories, choice: HostChoice, requestedGiB: number): Promise<HostEntity> {
    if (choice.kind !== 'any') {
      const host = await tx.hosts.findById(choice.hostId);
      if (!host) {
        if (choice.kind === 'named') throw notFound('Host', choice.hostId);
        throw preconditionFailed('The host of this instance is no longer registered');
      }
      assertHostUp(host, 'instance');
      await tx.hosts.lockForPlacement(host.id);
      const provisioned = await tx.hosts.provisionedGiB(host.id);
      const capacity = this.capacityGiB(host);
      if (capacity === null) throw preconditionFailed(`Host ${host.name} has not reported its storage yet`);
      if (provisioned + requestedGiB > capacity) {
        throw preconditionFailed(
          `Host ${host.name} has no room for ${requestedGiB} GiB: ${provisioned} GiB of its ${capacity} GiB are ` +
            `provisioned (storage × STORAGE_OVERCOMMIT_RATIO ${this.config.STORAGE_OVERCOMMIT_RATIO})`,
        );
      }
      return host;
    }
    const candidates = await tx.hosts.placementCandidates();
    if (candidates.length === 0) throw preconditionFailed('No host is UP to place the volumes on');
    const ordered = [
      ...candidates.filter((c) => c.host.id === choice.preferHostId),
      ...candidates.filter((c) => c.host.id !== choice.preferHostId),
    ].filter((c) => {
      const capacity = this.capacityGiB(c.host);
      return capacity !== null && c.provisionedGiB + requestedGiB <= capacity;
    });
    let waited = false;
    for (const { host } of ordered) {
      // The first candidate is waited for; the next ones only taken if free, so two placements that each hold
      // one host never wait for each other's (no deadlock). A busy one is being filled by someone else anyway.
      if (!waited) {
        await tx.hosts.lockForPlacement(host.id);
        waited = true;
      } else if (!(await tx.hosts.tryLockForPlacement(host.id))) {
        continue;
      }
      if ((await tx.hosts.provisionedGiB(host.id)) + requestedGiB <= this.capacityGiB(host)!) return host;
    }
    throw preconditionFailed(
      `No host has room for ${requestedGiB} GiB (the virtual size of the volumes on a host may reach its storage ` +
        `size × STORAGE_OVERCOMMIT_RATIO ${this.config.STORAGE_OVERCOMMIT_RATIO})`,
    );
  }

  /** GiB a host may hold; null while it has not reported its storage. */
  private capacityGiB(host: HostEntity): number | null {
    if (host.storageTotalBytes === null) return null;
    return Math.floor((host.storageTotalBytes * this.config.STORAGE_OVERCOMMIT_RATIO) / GIB);
  }

  private async insert(
    tx: Repositories,
    principal: Principal,
    plan: ProvisioningPlan,
    host: HostEntity,
  ): Promise<Provisioned> {
    const instance =
      plan.instance && 'create' in plan.instance
        ? await tx.instances.create({
            organizationId: plan.organizationId,
            environmentId: plan.environmentId,
            hostId: host.id,
            name: plan.instance.create,
            state: InstanceState.CREATING,
            cpuCount: plan.instance.size.cpuCount,
            memoryMiB: plan.instance.size.memoryMiB,
          })
        : (plan.instance?.existing ?? null);
    const volumes = await tx.volumes.createMany(
      plan.volumes.map((v) => ({
        organizationId: plan.organizationId,
        environmentId: plan.environmentId,
        instanceId: instance?.id ?? null,
        hostId: host.id,
        name: v.name,
        type: v.type,
        state: VolumeState.CREATING,
        sizeGiB: v.sizeGiB,
        sourceSnapshotId: v.source.kind === 'snapshot' ? v.source.snapshot.id : null,
        sourceTemplateId: v.source.kind === 'template' ? v.source.template.id : null,
      })),
    );
    const resource: JobResource =
      instance && plan.instance && 'create' in plan.instance
        ? ['Instance', { id: instance.id, organizationId: plan.organizationId }]
        : ['Volume', { id: volumes[0].id, organizationId: plan.organizationId }];

    if (plan.restore) {
      const job = await openJob(tx, principal, host, resource, JobName.RESTORE_BACKUP, {
        chain: plan.restore.chain,
        instanceId: resource[1].id,
        targets: volumes.map((v, i) => ({
          sourceVolumeId: backupSourceOf(plan.volumes[i].source),
          volumeId: v.id,
          sizeGiB: v.sizeGiB,
        })),
        overwrite: false,
        probeTimeoutSeconds: plan.restore.probeTimeoutSeconds,
      });
      return { instance, volumes, job, hostName: host.name };
    }
    const remote = plan.volumes.find(
      (v): v is PlannedVolume & { source: Extract<PlannedSource, { kind: 'snapshot' }> } =>
        v.source.kind === 'snapshot' && v.source.host.id !== host.id,
    );
    if (remote) {
      const { snapshot, volume, host: sourceHost } = remote.source;
      const job = await openJob(tx, principal, sourceHost, resource, JobName.EXPORT_SNAPSHOT, {
        volumeId: volume.id,
        snapshotId: snapshot.id,
        destination: transferPath(resource[1].id),
      });
      return { instance, volumes, job, hostName: sourceHost.name };
    }
    const job = await openJob(tx, principal, host, resource, JobName.CREATE_VOLUMES, {
      volumes: volumes.map((v, i) => ({
        volumeId: v.id,
        sizeGiB: v.sizeGiB,
        source: sourceOf(plan.volumes[i].source),
      })),
    });
    return { instance, volumes, job, hostName: host.name };
  }
}

function backupSourceOf(source: PlannedSource): string {
  if (source.kind !== 'backup') throw new Error('A restore plans only volumes from its backup');
  return source.sourceVolumeId;
}

function sourceOf(source: PlannedSource): VolumeSource {
  switch (source.kind) {
    case 'blank':
    case 'backup':
      return { kind: 'blank' };
    case 'template':
      return { kind: 'secondary', path: templatePath(source.template.id) };
    case 'snapshot':
      return { kind: 'snapshot', volumeId: source.volume.id, snapshotId: source.snapshot.id };
  }
}

/**
 * Attaching: the instance is locked for update until commit (a start, stop, instance snapshot or another attach
 * waits), must be in a state that takes a disk, and keeps to MAX_DATA_DISKS data disks.
 */
async function assertCanAttach(
  tx: Repositories,
  existing: InstanceEntity,
  volumes: readonly PlannedVolume[],
): Promise<void> {
  const instance = await tx.instances.lock(existing.id, 'update');
  if (!instance) throw notFound('Instance', existing.id);
  if ([InstanceState.CREATING, InstanceState.DESTROYING, InstanceState.ERROR].includes(instance.state)) {
    throw conflict(`Instance ${instance.name} is ${instance.state}`);
  }
  const dataDisks = (await tx.volumes.findByInstance(instance.id)).filter((v) => v.type === VolumeType.DATADISK);
  const adding = volumes.filter((v) => v.type === VolumeType.DATADISK).length;
  if (dataDisks.length + adding > MAX_DATA_DISKS) {
    throw preconditionFailed(
      `Instance ${instance.name} has ${dataDisks.length} data disks: an instance takes at most ${MAX_DATA_DISKS}`,
    );
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
