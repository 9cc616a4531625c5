import { Args, Context, ID, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { Permission } from '@snapdeck/domain';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import type { Principal } from '../auth/principal.js';
import { RequirePermission } from '../auth/require-permission.decorator.js';
import { toConnection } from '../common/connection.model.js';
import { PageArgs } from '../common/page.args.js';
import { ParseIdPipe } from '../common/parse-id.pipe.js';
import { EnvironmentModel } from '../environments/models/environment.model.js';
import type { GraphQLContext } from '../graphql/context.js';
import { loadRequired } from '../graphql/loaders.js';
import { HostModel } from '../hosts/models/host.model.js';
import { JobModel } from '../jobs/models/job.model.js';
import { VolumeModel } from '../volumes/models/volume.model.js';
import { CreateInstanceInput } from './dto/create-instance.input.js';
import { InstanceFilter } from './dto/instance-filter.input.js';
import { InstancesService, type InstanceOperation } from './instances.service.js';
import { CreateInstanceFromSnapshotInput } from './dto/create-instance-from-snapshot.input.js';
import { DeployInstanceInput } from './dto/deploy-instance.input.js';
import { DestroyInstanceInput } from './dto/destroy-instance.input.js';
import { StartInstanceInput, StopInstanceInput } from './dto/instance-power.input.js';
import {
  CreateInstanceFromSnapshotPayload,
  CreateInstancePayload,
  DeployInstancePayload,
  DestroyInstancePayload,
  StartInstancePayload,
  StopInstancePayload,
} from './models/instance-job.payload.js';
import { InstanceConnection, InstanceModel } from './models/instance.model.js';

@Resolver(() => InstanceModel)
export class InstancesResolver {
  constructor(private readonly service: InstancesService) {}

  @Query(() => InstanceConnection, { description: 'Instances the caller may see, newest first.' })
  @RequirePermission(Permission.READ)
  async instances(
    @CurrentPrincipal() principal: Principal,
    @Args() page: PageArgs,
    @Args('filter', { nullable: true, description: 'Which instances (default: all of them).' }) filter?: InstanceFilter,
  ): Promise<InstanceConnection> {
    return toConnection(await this.service.list(principal, filter ?? {}, page), InstanceModel.from);
  }

  @Query(() => InstanceModel, {
    nullable: true,
    description: 'One instance by id, or null if the caller may not see it.',
  })
  @RequirePermission(Permission.READ)
  async instance(
    @CurrentPrincipal() principal: Principal,
    @Args('id', { type: () => ID, description: "The instance's id." }, ParseIdPipe) id: string,
  ): Promise<InstanceModel | null> {
    const row = await this.service.findById(principal, id);
    return row ? InstanceModel.from(row) : null;
  }

  @Mutation(() => CreateInstancePayload, {
    description: 'A new instance with blank volumes; the job provisions them (CREATING, then STOPPED).',
  })
  @RequirePermission(Permission.WRITE)
  async createInstance(
    @CurrentPrincipal() principal: Principal,
    @Args('input', { description: 'The instance to create.' }) input: CreateInstanceInput,
  ): Promise<CreateInstancePayload> {
    return toPayload(await this.service.create(principal, input));
  }

  @Mutation(() => DeployInstancePayload, { description: 'A new instance from a template.' })
  @RequirePermission(Permission.WRITE)
  async deployInstance(
    @CurrentPrincipal() principal: Principal,
    @Args('input', { description: 'The template and the new instance.' }) input: DeployInstanceInput,
  ): Promise<DeployInstancePayload> {
    return toPayload(await this.service.deploy(principal, input));
  }

  @Mutation(() => CreateInstanceFromSnapshotPayload, {
    description: "A new instance whose ROOT volume holds a snapshot's data.",
  })
  @RequirePermission(Permission.WRITE)
  async createInstanceFromSnapshot(
    @CurrentPrincipal() principal: Principal,
    @Args('input', { description: 'The snapshot and the new instance.' }) input: CreateInstanceFromSnapshotInput,
  ): Promise<CreateInstanceFromSnapshotPayload> {
    return toPayload(await this.service.createFromSnapshot(principal, input));
  }

  @Mutation(() => DestroyInstancePayload, {
    description: 'Destroys an instance and its volumes (refused while snapshots exist, unless expungeSnapshots).',
  })
  @RequirePermission(Permission.WRITE)
  async destroyInstance(
    @CurrentPrincipal() principal: Principal,
    @Args('input', { description: 'The instance to destroy.' }) input: DestroyInstanceInput,
  ): Promise<DestroyInstancePayload> {
    return toPayload(await this.service.destroy(principal, input.instanceId, input.expungeSnapshots ?? false));
  }

  @Mutation(() => StartInstancePayload, {
    description: 'STOPPED → STARTING, then RUNNING as the hypervisor reports it (STOPPED again if it cannot).',
  })
  @RequirePermission(Permission.WRITE)
  async startInstance(
    @CurrentPrincipal() principal: Principal,
    @Args('input', { description: 'The instance to start.' }) input: StartInstanceInput,
  ): Promise<StartInstancePayload> {
    return toPayload(await this.service.start(principal, input.instanceId));
  }

  @Mutation(() => StopInstancePayload, {
    description:
      'RUNNING → STOPPING, then STOPPED: a graceful shutdown, forced off after INSTANCE_STOP_TIMEOUT_SECONDS.',
  })
  @RequirePermission(Permission.WRITE)
  async stopInstance(
    @CurrentPrincipal() principal: Principal,
    @Args('input', { description: 'The instance to stop.' }) input: StopInstanceInput,
  ): Promise<StopInstancePayload> {
    return toPayload(await this.service.stop(principal, input.instanceId));
  }

  @ResolveField(() => EnvironmentModel, { description: 'The environment it belongs to.' })
  async environment(@Parent() instance: InstanceModel, @Context() ctx: GraphQLContext): Promise<EnvironmentModel> {
    return EnvironmentModel.from(await loadRequired(ctx.loaders.environments, 'Environment', instance.environmentId));
  }

  @ResolveField(() => HostModel, { nullable: true, description: 'The host that holds its volumes, if placed.' })
  async host(@Parent() instance: InstanceModel, @Context() ctx: GraphQLContext): Promise<HostModel | null> {
    const row = instance.hostId ? await ctx.loaders.hosts.load(instance.hostId) : null;
    return row ? HostModel.from(row) : null;
  }

  @ResolveField(() => [VolumeModel], { description: 'Its volumes: ROOT first, then the data disks by name.' })
  async volumes(@Parent() instance: InstanceModel, @Context() ctx: GraphQLContext): Promise<VolumeModel[]> {
    return (await ctx.loaders.volumesByInstance.load(instance.id)).map(VolumeModel.from);
  }
}

function toPayload(operation: InstanceOperation): { instance: InstanceModel; job: JobModel } {
  return { instance: InstanceModel.from(operation.instance), job: JobModel.from(operation.job) };
}
