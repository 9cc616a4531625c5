import { Args, Context, ID, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { notFound, Permission } from '@snapdeck/domain';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import type { Principal } from '../auth/principal.js';
import { RequirePermission } from '../auth/require-permission.decorator.js';
import { toConnection } from '../common/connection.model.js';
import { PageArgs } from '../common/page.args.js';
import { ParseIdPipe } from '../common/parse-id.pipe.js';
import { EnvironmentModel } from '../environments/models/environment.model.js';
import type { GraphQLContext } from '../graphql/context.js';
import { loadRequired } from '../graphql/loaders.js';
import { InstanceModel } from '../instances/models/instance.model.js';
import { JobModel } from '../jobs/models/job.model.js';
import { VolumeModel } from '../volumes/models/volume.model.js';
import { CreateSnapshotInput } from './dto/create-snapshot.input.js';
import { DeleteSnapshotInput } from './dto/delete-snapshot.input.js';
import { SnapshotFilter } from './dto/snapshot-filter.input.js';
import { SetSnapshotProtectionInput } from './dto/set-snapshot-protection.input.js';
import {
  CreateSnapshotPayload,
  DeleteSnapshotPayload,
  SetSnapshotProtectionPayload,
} from './models/snapshot-job.payload.js';
import { SnapshotConnection, SnapshotModel } from './models/snapshot.model.js';
import { SnapshotsService } from './snapshots.service.js';

@Resolver(() => SnapshotModel)
export class SnapshotsResolver {
  constructor(private readonly service: SnapshotsService) {}

  @Query(() => SnapshotConnection, { description: 'Snapshots the caller may see, newest first.' })
  @RequirePermission(Permission.READ)
  async snapshots(
    @CurrentPrincipal() principal: Principal,
    @Args() page: PageArgs,
    @Args('filter', { nullable: true, description: 'Which snapshots (default: all of them).' }) filter?: SnapshotFilter,
  ): Promise<SnapshotConnection> {
    return toConnection(await this.service.list(principal, filter ?? {}, page), SnapshotModel.from);
  }

  @Query(() => SnapshotModel, {
    nullable: true,
    description: 'One snapshot by id, or null if the caller may not see it.',
  })
  @RequirePermission(Permission.READ)
  async snapshot(
    @CurrentPrincipal() principal: Principal,
    @Args('id', { type: () => ID, description: "The snapshot's id." }, ParseIdPipe) id: string,
  ): Promise<SnapshotModel | null> {
    const row = await this.service.findById(principal, id);
    return row ? SnapshotModel.from(row) : null;
  }

  @Mutation(() => CreateSnapshotPayload, {
    description: 'A snapshot of a READY volume: IN_PROGRESS now, COMPLETED or ERROR when the job ends.',
  })
  @RequirePermission(Permission.WRITE)
  async createSnapshot(
    @CurrentPrincipal() principal: Principal,
    @Args('input', { description: "The volume and the snapshot's name and description." }) input: CreateSnapshotInput,
  ): Promise<CreateSnapshotPayload> {
    const { snapshot, job } = await this.service.create(principal, input);
    return { snapshot: SnapshotModel.from(snapshot), job: JobModel.from(job) };
  }

  @Mutation(() => DeleteSnapshotPayload, {
    description: 'Deletes a snapshot: DESTROYING now, gone when the disk confirms.',
  })
  @RequirePermission(Permission.WRITE)
  async deleteSnapshot(
    @CurrentPrincipal() principal: Principal,
    @Args('input', { description: 'The snapshot to delete.' }) input: DeleteSnapshotInput,
  ): Promise<DeleteSnapshotPayload> {
    const { snapshot, job } = await this.service.delete(principal, input.snapshotId);
    return { snapshot: SnapshotModel.from(snapshot), job: JobModel.from(job) };
  }

  @Mutation(() => SetSnapshotProtectionPayload, {
    description:
      "Protects a snapshot from its policy's retention and from deleteSnapshot, or lifts that (CONFLICT while it is DESTROYING).",
  })
  @RequirePermission(Permission.WRITE)
  async setSnapshotProtection(
    @CurrentPrincipal() principal: Principal,
    @Args('input', { description: 'The snapshot and whether it is protected.' }) input: SetSnapshotProtectionInput,
  ): Promise<SetSnapshotProtectionPayload> {
    return {
      snapshot: SnapshotModel.from(await this.service.setProtection(principal, input.snapshotId, input.protected)),
    };
  }

  @ResolveField(() => VolumeModel, { description: 'The volume it is a snapshot of.' })
  async volume(@Parent() snapshot: SnapshotModel, @Context() ctx: GraphQLContext): Promise<VolumeModel> {
    const row = await ctx.loaders.volumes.load(snapshot.volumeId);
    if (row) return VolumeModel.from(row);
    // The removed event of a snapshot whose volume went in the same job (destroyInstance): as it was last.
    if (snapshot.lastKnownVolume) return snapshot.lastKnownVolume;
    throw notFound('Volume', snapshot.volumeId);
  }

  @ResolveField(() => InstanceModel, {
    nullable: true,
    description: 'The instance its volume belonged to when it was taken.',
  })
  async instance(@Parent() snapshot: SnapshotModel, @Context() ctx: GraphQLContext): Promise<InstanceModel | null> {
    const row = snapshot.instanceId ? await ctx.loaders.instances.load(snapshot.instanceId) : null;
    return row ? InstanceModel.from(row) : null;
  }

  @ResolveField(() => EnvironmentModel, { description: 'The environment of its volume.' })
  async environment(@Parent() snapshot: SnapshotModel, @Context() ctx: GraphQLContext): Promise<EnvironmentModel> {
    return EnvironmentModel.from(await loadRequired(ctx.loaders.environments, 'Environment', snapshot.environmentId));
  }

  @ResolveField(() => JobModel, { nullable: true, description: 'The job of the latest operation on this snapshot.' })
  async job(@Parent() snapshot: SnapshotModel, @Context() ctx: GraphQLContext): Promise<JobModel | null> {
    const row = snapshot.lastJobId ? await ctx.loaders.jobs.load(snapshot.lastJobId) : null;
    return row ? JobModel.from(row) : null;
  }
}
