import { Args, Context, ID, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { Permission } from '@snapdeck/domain';
import { Database } from '@snapdeck/persistence';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import { readScope, type Principal } from '../auth/principal.js';
import { RequirePermission } from '../auth/require-permission.decorator.js';
import { toConnection } from '../common/connection.model.js';
import { PageArgs } from '../common/page.args.js';
import { ParseIdPipe } from '../common/parse-id.pipe.js';
import { EnvironmentModel } from '../environments/models/environment.model.js';
import type { GraphQLContext } from '../graphql/context.js';
import { loadRequired } from '../graphql/loaders.js';
import { HostModel } from '../hosts/models/host.model.js';
import { InstanceModel } from '../instances/models/instance.model.js';
import { SnapshotConnection, SnapshotModel } from '../snapshots/models/snapshot.model.js';
import { VolumeFilter } from './dto/volume-filter.input.js';
import { VolumeConnection, VolumeModel } from './models/volume.model.js';
import { CreateVolumeFromSnapshotInput, RevertVolumeToSnapshotInput } from './dto/volume-operations.input.js';
import { CreateVolumeFromSnapshotPayload, RevertVolumeToSnapshotPayload } from './models/volume-job.payload.js';
import { VolumesService, type VolumeOperation } from './volumes.service.js';
import { JobModel } from '../jobs/models/job.model.js';

@Resolver(() => VolumeModel)
export class VolumesResolver {
  constructor(
    private readonly db: Database,
    private readonly service: VolumesService,
  ) {}

  @Mutation(() => RevertVolumeToSnapshotPayload, {
    description: 'Rolls a volume back to a snapshot (its instance must be STOPPED); every snapshot stays.',
  })
  @RequirePermission(Permission.WRITE)
  async revertVolumeToSnapshot(
    @CurrentPrincipal() principal: Principal,
    @Args('input', { description: 'The snapshot to roll back to.' }) input: RevertVolumeToSnapshotInput,
  ): Promise<RevertVolumeToSnapshotPayload> {
    return toPayload(await this.service.revert(principal, input.snapshotId));
  }

  @Mutation(() => CreateVolumeFromSnapshotPayload, {
    description: "A new DATADISK volume with a snapshot's data, attached to an instance if one is given.",
  })
  @RequirePermission(Permission.WRITE)
  async createVolumeFromSnapshot(
    @CurrentPrincipal() principal: Principal,
    @Args('input', { description: 'The snapshot and the new volume.' }) input: CreateVolumeFromSnapshotInput,
  ): Promise<CreateVolumeFromSnapshotPayload> {
    return toPayload(await this.service.createFromSnapshot(principal, input));
  }

  @Query(() => VolumeConnection, { description: 'Volumes the caller may see, newest first.' })
  @RequirePermission(Permission.READ)
  async volumes(
    @CurrentPrincipal() principal: Principal,
    @Args() page: PageArgs,
    @Args('filter', { nullable: true, description: 'Which volumes (default: all of them).' }) filter?: VolumeFilter,
  ): Promise<VolumeConnection> {
    return toConnection(await this.db.repos.volumes.list(readScope(principal), filter ?? {}, page), VolumeModel.from);
  }

  @Query(() => VolumeModel, { nullable: true, description: 'Snapshots the caller may see, newest first.' })
  @RequirePermission(Permission.READ)
  async volume(
    @CurrentPrincipal() principal: Principal,
    @Args('id', { type: () => ID, description: "The volume's id." }, ParseIdPipe) id: string,
  ): Promise<VolumeModel | null> {
    const row = await this.db.repos.volumes.findById(readScope(principal), id);
    return row ? VolumeModel.from(row) : null;
  }

  @ResolveField(() => SnapshotConnection, { description: 'Its snapshots, newest first.' })
  async snapshots(
    @Parent() volume: VolumeModel,
    @Args() page: PageArgs,
    @Context() ctx: GraphQLContext,
  ): Promise<SnapshotConnection> {
    // The parent was read within the caller's scope; its snapshots belong to the same organization.
    const scope = readScope(ctx.principal!);
    return toConnection(await this.db.repos.snapshots.list(scope, { volumeId: volume.id }, page), SnapshotModel.from);
  }

  @ResolveField(() => InstanceModel, { nullable: true, description: 'The instance it is attached to, if any.' })
  async instance(@Parent() volume: VolumeModel, @Context() ctx: GraphQLContext): Promise<InstanceModel | null> {
    const row = volume.instanceId ? await ctx.loaders.instances.load(volume.instanceId) : null;
    return row ? InstanceModel.from(row) : null;
  }

  @ResolveField(() => EnvironmentModel, { description: 'The environment it belongs to.' })
  async environment(@Parent() volume: VolumeModel, @Context() ctx: GraphQLContext): Promise<EnvironmentModel> {
    return EnvironmentModel.from(await loadRequired(ctx.loaders.environments, 'Environment', volume.environmentId));
  }

  @ResolveField(() => HostModel, { nullable: true, description: 'The host that holds its image.' })
  async host(@Parent() volume: VolumeModel, @Context() ctx: GraphQLContext): Promise<HostModel | null> {
    const row = await ctx.loaders.hosts.load(volume.hostId);
    return row ? HostModel.from(row) : null;
  }
}

function toPayload(operation: VolumeOperation): { volume: VolumeModel; job: JobModel } {
  return { volume: VolumeModel.from(operation.volume), job: JobModel.from(operation.job) };
}
