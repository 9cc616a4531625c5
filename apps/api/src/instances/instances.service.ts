import { Inject, Injectable } from '@nestjs/common';
import { JobName } from '@snapdeck/contracts';
import {
  conflict,
  DEFAULT_INSTANCE_SIZE,
  InstanceState,
  type InstanceSize,
  notFound,
  Permission,
  preconditionFailed,
  SnapshotState,
  TemplateState,
  VolumeState,
  VolumeType,
} from '@snapdeck/domain';
import {
  ALL_ORGANIZATIONS,
  Database,
  type InstanceEntity,
  type InstanceFilter,
  type JobEntity,
  type Page,
  type PageRequest,
  type Repositories,
} from '@snapdeck/persistence';
import { can, readScope, writeScope, type Principal } from '../auth/principal.js';
import { findWritable } from '../common/access.js';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { isUniqueViolation } from '../common/database-errors.js';
import { assertHostUp } from '../common/hosts.js';
import { hostOfInstance, lockWritableInstance } from './instance-locks.js';
import { instanceClonedAcrossOrganizationsEvent, snapshotClonedBySupportEvent } from './clone-events.js';
import { JobLauncher } from '../orchestration/job-launcher.service.js';
import { openJob } from '../orchestration/open-job.js';
import { isCopySource } from '../snapshots/copy-source.js';
import {
  ProvisioningService,
  type PlannedVolume,
  type ProvisioningPlan,
} from '../provisioning/provisioning.service.js';
import type { CreateInstanceFromSnapshotInput } from './dto/create-instance-from-snapshot.input.js';
import type { CreateInstanceInput } from './dto/create-instance.input.js';
import type { DeployInstanceInput } from './dto/deploy-instance.input.js';
import { assertDisksReady, assertInstanceIn, domainDisks, volumeStateLabel } from './instance-disks.js';

export interface InstanceOperation {
  instance: InstanceEntity;
  job: JobEntity;
}

const GIB = 1024 ** 3;

@Injectable()
export class InstancesService {
  constructor(
    private readonly db: Database,
    private readonly launcher: JobLauncher,
    private readonly provisioning: ProvisioningService,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  /** A new instance with a blank ROOT volume and DATA-1…n on one host; the agent provisions the files. */
  async create(principal: Principal, input: CreateInstanceInput): Promise<InstanceOperation> {
    const root: PlannedVolume = {
      name: 'ROOT',
      type: VolumeType.ROOT,
      sizeGiB: input.rootDiskSizeGiB,
      source: { kind: 'blank' },
    };
    return this.provisionInstance(principal, input.environmentId, input.name, sizeOf(input), input.hostId, [
      root,
      ...dataDisks(input.dataDiskSizesGiB),
    ]);
  }

  /** A new instance whose ROOT is a full copy of a READY template the caller can see. */
  async deploy(principal: Principal, input: DeployInstanceInput): Promise<InstanceOperation> {
    const template = await this.db.repos.templates.findVisible(readScope(principal), input.templateId);
    if (!template) throw notFound('Template', input.templateId);
    if (template.state !== TemplateState.READY)
      throw conflict(`Template ${template.name} is ${template.state}, not READY`);
    const sizeGiB = Math.max(1, Math.ceil(Number(template.virtualSizeBytes ?? 0) / GIB));
    const root: PlannedVolume = {
      name: 'ROOT',
      type: VolumeType.ROOT,
      sizeGiB,
      source: { kind: 'template', template },
    };
    // A private template is copied only into its own organization: support staff, who can read every
    // organization's templates, copy customer data only through createInstanceFromSnapshot, which is recorded.
    return this.provisionInstance(
      principal,
      input.environmentId,
      input.name,
      sizeOf(input),
      input.hostId,
      [root, ...dataDisks(input.dataDiskSizesGiB)],
      (_tx, instance) =>
        template.public || template.organizationId === instance.organizationId
          ? Promise.resolve()
          : Promise.reject(notFound('Template', template.id)),
    );
  }

  /**
   * A new instance whose ROOT holds a snapshot's data, in an environment of the caller's organization.
   *
   * Support staff may start from any organization's snapshot. This is the one write whose source is read through
   * the read scope instead of the write scope (everywhere else a resource outside the caller's organization is
   * NOT_FOUND to a write, see findWritable): troubleshooting a customer's instance away from production is what
   * the SUPPORT role is for, the snapshot itself is only read, and everything written (the clone) lands in the
   * caller's own organization, whose environment is still looked up through the write scope. Two events record
   * it: the customer's organization learns who cloned which of its snapshots, and the clone's organization sees
   * only the clone (see clone-events.ts).
   */
  async createFromSnapshot(principal: Principal, input: CreateInstanceFromSnapshotInput): Promise<InstanceOperation> {
    const acrossOrganizations = can(principal, Permission.CLONE_ACROSS_ORGANIZATIONS);
    const scope = acrossOrganizations ? readScope(principal) : writeScope(principal);
    const snapshot = await this.db.repos.snapshots.findById(scope, input.snapshotId);
    if (!snapshot) throw notFound('Snapshot', input.snapshotId);
    if (snapshot.state !== SnapshotState.COMPLETED)
      throw conflict(`Snapshot ${snapshot.name} is ${snapshot.state}, not COMPLETED`);
    const volume = (await this.db.repos.volumes.findById(ALL_ORGANIZATIONS, snapshot.volumeId))!;
    const sourceHost = assertHostUp(await this.db.repos.hosts.findById(volume.hostId), 'snapshot');
    const root: PlannedVolume = {
      name: 'ROOT',
      type: VolumeType.ROOT,
      sizeGiB: volume.sizeGiB,
      source: { kind: 'snapshot', snapshot, volume, host: sourceHost },
    };
    // A clone is the size of the instance it was snapshotted on (a detached volume's: the default).
    const source = volume.instanceId
      ? await this.db.repos.instances.findById(ALL_ORGANIZATIONS, volume.instanceId)
      : null;
    const operation = await this.provisionInstance(
      principal,
      input.environmentId,
      input.name,
      source ? { cpuCount: source.cpuCount, memoryMiB: source.memoryMiB } : DEFAULT_INSTANCE_SIZE,
      input.hostId,
      [root],
      async (tx, instance) => {
        if (instance.organizationId === snapshot.organizationId) return;
        const customerEvent = await tx.events.record(snapshotClonedBySupportEvent(principal, snapshot, instance));
        await tx.events.record(instanceClonedAcrossOrganizationsEvent(principal, instance, customerEvent.id));
      },
    );
    return operation;
  }

  /**
   * STOPPED→STARTING and a START_INSTANCE job to the instance's host, which boots the domain from the volumes
   * (every one READY: a disk being snapshotted or reverted by qemu-img must not be opened by a guest).
   */
  async start(principal: Principal, instanceId: string): Promise<InstanceOperation> {
    return this.launcher.commitThenLaunch(async (tx) => {
      const instance = await lockWritableInstance(tx, principal, instanceId);
      assertInstanceIn(instance, [InstanceState.STOPPED], 'only a STOPPED instance can be started');
      const host = await hostOfInstance(tx, instance);
      const volumes = await tx.volumes.findByInstance(instance.id);
      assertDisksReady(volumes, 'starting it');
      const job = await openJob(tx, principal, host, ['Instance', instance], JobName.START_INSTANCE, {
        instanceId: instance.id,
        volumeIds: domainDisks(volumes),
        cpuCount: instance.cpuCount,
        memoryMiB: instance.memoryMiB,
      });
      if (!(await tx.instances.transition(instance.id, [InstanceState.STOPPED], InstanceState.STARTING))) {
        throw conflict('The instance changed meanwhile; try again');
      }
      const starting = (await tx.instances.findById(ALL_ORGANIZATIONS, instance.id))!;
      return { operation: { instance: starting, job }, hostName: host.name };
    });
  }

  /**
   * RUNNING→STOPPING and a STOP_INSTANCE job: a graceful shutdown, forced after INSTANCE_STOP_TIMEOUT_SECONDS.
   * Refused (CONFLICT) while a live snapshot or an instance snapshot is being taken: it needs the guest up.
   */
  async stop(principal: Principal, instanceId: string): Promise<InstanceOperation> {
    return this.launcher.commitThenLaunch(async (tx) => {
      const instance = await lockWritableInstance(tx, principal, instanceId);
      assertInstanceIn(instance, [InstanceState.RUNNING], 'only a RUNNING instance can be stopped');
      const host = await hostOfInstance(tx, instance);
      const volumes = await tx.volumes.findByInstance(instance.id);
      const busy = volumes.find((v) => v.state === VolumeState.SNAPSHOTTING || v.state === VolumeState.REVERTING);
      if (busy) {
        throw conflict(`Volume ${busy.name} is ${volumeStateLabel(busy)}: wait for it to finish before stopping`);
      }
      const job = await openJob(tx, principal, host, ['Instance', instance], JobName.STOP_INSTANCE, {
        instanceId: instance.id,
        volumeIds: domainDisks(volumes),
        timeoutSeconds: this.config.INSTANCE_STOP_TIMEOUT_SECONDS,
      });
      if (!(await tx.instances.transition(instance.id, [InstanceState.RUNNING], InstanceState.STOPPING))) {
        throw conflict('The instance changed meanwhile; try again');
      }
      const stopping = (await tx.instances.findById(ALL_ORGANIZATIONS, instance.id))!;
      return { operation: { instance: stopping, job }, hostName: host.name };
    });
  }

  /**
   * Destroys a stopped instance and its volumes. Refused while they have snapshots or the instance has
   * instance snapshots, unless expungeSnapshots: then they go with the files that hold them.
   */
  async destroy(principal: Principal, instanceId: string, expungeSnapshots: boolean): Promise<InstanceOperation> {
    return this.launcher.commitThenLaunch(async (tx) => {
      const instance = await lockWritableInstance(tx, principal, instanceId);
      if (![InstanceState.STOPPED, InstanceState.ERROR].includes(instance.state)) {
        throw preconditionFailed(`Instance ${instance.name} is ${instance.state}: stop it before destroying it`);
      }
      const host = await hostOfInstance(tx, instance);
      const volumes = await tx.volumes.findByInstance(instance.id);
      const busy = volumes.find((v) => ![VolumeState.READY, VolumeState.ERROR].includes(v.state));
      if (busy) throw conflict(`Volume ${busy.name} is ${busy.state}: wait for it to finish`);
      const snapshots = await tx.snapshots.findByVolumeIds(volumes.map((v) => v.id));
      const instanceSnapshots = await tx.instanceSnapshots.findByInstance(instance.id);
      if (snapshots.length > 0 && !expungeSnapshots) {
        throw preconditionFailed(
          `Instance ${instance.name} has ${snapshots.length} snapshot(s): delete them first, or pass expungeSnapshots: true`,
        );
      }
      if (instanceSnapshots.length > 0 && !expungeSnapshots) {
        throw preconditionFailed(
          `Instance ${instance.name} has ${instanceSnapshots.length} recovery point(s): delete them first, or pass expungeSnapshots: true`,
        );
      }
      // expungeSnapshots is a bulk delete: it does not get past a protected snapshot either.
      const guarded = snapshots.find((s) => s.protected);
      if (guarded) {
        throw preconditionFailed(
          `Snapshot ${guarded.name} of instance ${instance.name} is protected: unprotect it (setSnapshotProtection) first`,
        );
      }
      const unsettled = (s: { state: SnapshotState }) =>
        s.state === SnapshotState.IN_PROGRESS || s.state === SnapshotState.DESTROYING;
      if (snapshots.some(unsettled)) {
        throw conflict('A snapshot of this instance is being taken or deleted: wait for it to finish');
      }
      if (instanceSnapshots.some(unsettled)) {
        throw conflict('A recovery point of this instance is being taken or deleted: wait for it to finish');
      }
      await this.assertNotCopySource(
        tx,
        snapshots.map((s) => s.id),
      );
      if (!(await tx.instances.transition(instance.id, [instance.state], InstanceState.DESTROYING))) {
        throw conflict('The instance changed meanwhile; try again');
      }
      const volumeIds = volumes.map((v) => v.id);
      // Each volume moves only if no snapshot or revert took it meanwhile; one that did refuses the destroy.
      const moved = await tx.volumes.transitionMany(
        volumeIds,
        [VolumeState.READY, VolumeState.ERROR],
        VolumeState.DESTROYING,
      );
      if (moved !== volumeIds.length) throw conflict('A volume of this instance became busy: wait for it to finish');
      await tx.snapshots.transitionMany(
        snapshots.map((s) => s.id),
        [SnapshotState.COMPLETED, SnapshotState.ERROR],
        SnapshotState.DESTROYING,
      );
      await tx.instanceSnapshots.transitionMany(
        instanceSnapshots.map((p) => p.id),
        [SnapshotState.COMPLETED, SnapshotState.ERROR],
        SnapshotState.DESTROYING,
      );
      const job = await openJob(tx, principal, host, ['Instance', instance], JobName.DESTROY_VOLUMES, {
        volumeIds,
        instanceId: instance.id,
      });
      const destroying = (await tx.instances.findById(ALL_ORGANIZATIONS, instance.id))!;
      return { operation: { instance: destroying, job }, hostName: host.name };
    });
  }

  list(principal: Principal, filter: InstanceFilter, page: PageRequest): Promise<Page<InstanceEntity>> {
    return this.db.repos.instances.list(readScope(principal), filter, page);
  }

  findById(principal: Principal, id: string): Promise<InstanceEntity | null> {
    return this.db.repos.instances.findById(readScope(principal), id);
  }

  private async provisionInstance(
    principal: Principal,
    environmentId: string,
    name: string,
    size: InstanceSize,
    hostId: string | null | undefined,
    volumes: PlannedVolume[],
    alsoInTransaction?: (tx: Repositories, instance: InstanceEntity) => Promise<void>,
  ): Promise<InstanceOperation> {
    const environment = await findWritable(principal, 'Environment', environmentId, (scope) =>
      this.db.repos.environments.findById(scope, environmentId),
    );
    const plan: ProvisioningPlan = {
      organizationId: environment.organizationId,
      environmentId: environment.id,
      host: hostId ? { kind: 'named', hostId } : { kind: 'any' },
      instance: { create: name, size },
      volumes,
    };
    try {
      return await this.launcher.commitThenLaunch(async (tx) => {
        const provisioned = await this.provisioning.provision(tx, principal, plan);
        await alsoInTransaction?.(tx, provisioned.instance!);
        return { operation: { instance: provisioned.instance!, job: provisioned.job }, hostName: provisioned.hostName };
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict(`An instance named ${name} exists in this environment already`);
      throw error;
    }
  }

  /** A snapshot being copied (into a template or a volume) must outlive the copy. */
  private async assertNotCopySource(tx: Repositories, snapshotIds: string[]): Promise<void> {
    for (const snapshotId of snapshotIds) {
      if (await isCopySource(tx, snapshotId)) {
        throw conflict('A snapshot of this instance is being copied: wait for the copy to finish');
      }
    }
  }
}

function dataDisks(sizes: number[] | null | undefined): PlannedVolume[] {
  return (sizes ?? []).map((sizeGiB, i) => ({
    name: `DATA-${i + 1}`,
    type: VolumeType.DATADISK,
    sizeGiB,
    source: { kind: 'blank' },
  }));
}

/** The size an input asks for, the default where it says nothing. */
function sizeOf(input: { cpuCount?: number | null; memoryMiB?: number | null }): InstanceSize {
  return {
    cpuCount: input.cpuCount ?? DEFAULT_INSTANCE_SIZE.cpuCount,
    memoryMiB: input.memoryMiB ?? DEFAULT_INSTANCE_SIZE.memoryMiB,
  };
}
