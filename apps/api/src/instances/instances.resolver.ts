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

  @Query(() => InstanceConnection)
  @RequirePermission(Permission.READ)
  async instances(
    @CurrentPrincipal() principal: Principal,
    @Args() page: PageArgs,
    @Args('filter', { nullable: true }) filter?: InstanceFilter,
  ): Promise<InstanceConnection> {
    return toConnection(await this.service.list(principal, filter ?? {}, page), InstanceModel.from);
  }

  @Query(() => InstanceModel, { nullable: true })
  @RequirePermission(Permission.READ)
  async instance(
    @CurrentPrincipal() principal: Principal,
    @Args('id', { type: () => ID }, ParseIdPipe) id: string,
  ): Promise<InstanceModel | null> {
    const row = await this.service.findById(principal, id);
    return row ? InstanceModel.from(row) : null;
  }

  @Mutation(() => CreateInstancePayload)
  @RequirePermission(Permission.WRITE)
  async createInstance(
    @CurrentPrincipal() principal: Principal,
    @Args('input') input: CreateInstanceInput,
  ): Promise<CreateInstancePayload> {
    return toPayload(await this.service.create(principal, input));
  }

  @Mutation(() => DeployInstancePayload)
  @RequirePermission(Permission.WRITE)
  async deployInstance(
    @CurrentPrincipal() principal: Principal,
    @Args('input') input: DeployInstanceInput,
  ): Promise<DeployInstancePayload> {
    return toPayload(await this.service.deploy(principal, input));
  }

  @Mutation(() => CreateInstanceFromSnapshotPayload)
  @RequirePermission(Permission.WRITE)
  async createInstanceFromSnapshot(
    @CurrentPrincipal() principal: Principal,
    @Args('input') input: CreateInstanceFromSnapshotInput,
  ): Promise<CreateInstanceFromSnapshotPayload> {
    return toPayload(await this.service.createFromSnapshot(principal, input));
  }

  @Mutation(() => DestroyInstancePayload)
  @RequirePermission(Permission.WRITE)
  async destroyInstance(
    @CurrentPrincipal() principal: Principal,
    @Args('input') input: DestroyInstanceInput,
  ): Promise<DestroyInstancePayload> {
    return toPayload(await this.service.destroy(principal, input.instanceId, input.expungeSnapshots ?? false));
  }

  @Mutation(() => StartInstancePayload, {
    description: 'STOPPED → STARTING, then RUNNING as the hypervisor reports it (STOPPED again if it cannot).',
  })
  @RequirePermission(Permission.WRITE)
  async startInstance(
    @CurrentPrincipal() principal: Principal,
    @Args('input') input: StartInstanceInput,
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
    @Args('input') input: StopInstanceInput,
  ): Promise<StopInstancePayload> {
    return toPayload(await this.service.stop(principal, input.instanceId));
  }

  @ResolveField(() => EnvironmentModel)
  async environment(@Parent() instance: InstanceModel, @Context() ctx: GraphQLContext): Promise<EnvironmentModel> {
    return EnvironmentModel.from((await ctx.loaders.environments.load(instance.environmentId))!);
  }

  @ResolveField(() => HostModel, { nullable: true })
  async host(@Parent() instance: InstanceModel, @Context() ctx: GraphQLContext): Promise<HostModel | null> {
    const row = instance.hostId ? await ctx.loaders.hosts.load(instance.hostId) : null;
    return row ? HostModel.from(row) : null;
  }

  @ResolveField(() => [VolumeModel])
  async volumes(@Parent() instance: InstanceModel, @Context() ctx: GraphQLContext): Promise<VolumeModel[]> {
    return (await ctx.loaders.volumesByInstance.load(instance.id)).map(VolumeModel.from);
  }
}

function toPayload(operation: InstanceOperation): { instance: InstanceModel; job: JobModel } {
  return { instance: InstanceModel.from(operation.instance), job: JobModel.from(operation.job) };
}
