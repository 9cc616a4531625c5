import { Injectable } from '@nestjs/common';
import { JobName } from '@snapdeck/contracts';
import { conflict, InstanceState, notFound, preconditionFailed, VolumeState, VolumeType } from '@snapdeck/domain';
import {
  Database,
  type HostEntity,
  type InstanceEntity,
  type InstanceFilter,
  type JobEntity,
  type Page,
  type PageRequest,
} from '@snapdeck/persistence';
import { readScope, type Principal } from '../auth/principal.js';
import { findWritable } from '../common/access.js';
import { isUniqueViolation } from '../common/database-errors.js';
import { assertHostUp } from '../common/hosts.js';
import { JobLauncher } from '../orchestration/job-launcher.service.js';
import type { CreateInstanceInput } from './dto/create-instance.input.js';

@Injectable()
export class InstancesService {
  constructor(
    private readonly db: Database,
    private readonly launcher: JobLauncher,
  ) {}

  /** A new instance with a blank ROOT volume and DATA-1…n on one host; the agent provisions the files. */
  async create(
    principal: Principal,
    input: CreateInstanceInput,
  ): Promise<{ instance: InstanceEntity; job: JobEntity }> {
    const environment = await findWritable(principal, 'Environment', input.environmentId, (scope) =>
      this.db.repos.environments.findById(scope, input.environmentId),
    );
    const host = await this.placement(input.hostId ?? null);
    const sizes = [input.rootDiskSizeGiB, ...(input.dataDiskSizesGiB ?? [])];
    try {
      const created = await this.db.transaction(async (tx) => {
        const instance = await tx.instances.create({
          organizationId: environment.organizationId,
          environmentId: environment.id,
          hostId: host.id,
          name: input.name,
          state: InstanceState.CREATING,
        });
        const volumes = await tx.volumes.createMany(
          sizes.map((sizeGiB, index) => ({
            organizationId: environment.organizationId,
            environmentId: environment.id,
            instanceId: instance.id,
            hostId: host.id,
            name: index === 0 ? 'ROOT' : `DATA-${index}`,
            type: index === 0 ? VolumeType.ROOT : VolumeType.DATADISK,
            state: VolumeState.CREATING,
            sizeGiB,
          })),
        );
        const job = await tx.jobs.create({
          organizationId: environment.organizationId,
          type: JobName.CREATE_VOLUMES,
          hostId: host.id,
          resourceType: 'Instance',
          resourceId: instance.id,
          payload: { volumes: volumes.map((v) => ({ volumeId: v.id, sizeGiB: v.sizeGiB })) },
          createdByUserId: principal.userId,
        });
        return { instance, job };
      });
      return { ...created, job: await this.launcher.launch(created.job, host.name) };
    } catch (error) {
      if (isUniqueViolation(error))
        throw conflict(`An instance named ${input.name} exists in this environment already`);
      throw error;
    }
  }

  list(principal: Principal, filter: InstanceFilter, page: PageRequest): Promise<Page<InstanceEntity>> {
    return this.db.repos.instances.list(readScope(principal), filter, page);
  }

  findById(principal: Principal, id: string): Promise<InstanceEntity | null> {
    return this.db.repos.instances.findById(readScope(principal), id);
  }

  private async placement(hostId: string | null): Promise<HostEntity> {
    if (hostId) {
      const host = await this.db.repos.hosts.findById(hostId);
      if (!host) throw notFound('Host', hostId);
      return assertHostUp(host, 'instance');
    }
    const host = await this.db.repos.hosts.findLeastLoadedUpHost();
    if (!host) throw preconditionFailed('No host is UP to place the instance on');
    return host;
  }
}
