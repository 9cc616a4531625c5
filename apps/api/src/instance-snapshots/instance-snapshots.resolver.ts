import { Args, Context, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { Permission } from '@snapdeck/domain';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import type { Principal } from '../auth/principal.js';
import { RequirePermission } from '../auth/require-permission.decorator.js';
import { toConnection } from '../common/connection.model.js';
import { PageArgs } from '../common/page.args.js';
import type { GraphQLContext } from '../graphql/context.js';
import { loadRequired } from '../graphql/loaders.js';
import { InstanceModel } from '../instances/models/instance.model.js';
import { JobModel } from '../jobs/models/job.model.js';
import {
  CreateInstanceSnapshotInput,
  DeleteInstanceSnapshotInput,
  InstanceSnapshotFilter,
  RevertToInstanceSnapshotInput,
} from './dto/instance-snapshot.inputs.js';
import { InstanceSnapshotsService } from './instance-snapshots.service.js';
import {
  CreateInstanceSnapshotPayload,
  DeleteInstanceSnapshotPayload,
  RevertToInstanceSnapshotPayload,
} from './models/instance-snapshot-job.payload.js';
import { InstanceSnapshotConnection, InstanceSnapshotModel } from './models/instance-snapshot.model.js';

@Resolver(() => InstanceSnapshotModel)
export class InstanceSnapshotsResolver {
  constructor(private readonly service: InstanceSnapshotsService) {}

  @Query(() => InstanceSnapshotConnection, { description: 'Recovery points, newest first.' })
  @RequirePermission(Permission.READ)
  async instanceSnapshots(
    @CurrentPrincipal() principal: Principal,
    @Args() page: PageArgs,
    @Context() ctx: GraphQLContext,
    @Args('filter', { nullable: true, description: 'Which recovery points (default: all of them).' })
    filter?: InstanceSnapshotFilter,
  ): Promise<InstanceSnapshotConnection> {
    const found = await this.service.list(principal, filter ?? {}, page);
    // The instances came with the list, from one snapshot of the database: `instance` answers from them.
    for (const row of found.items) if (row.instance) ctx.loaders.instances.prime(row.instanceId, row.instance);
    return toConnection(found, InstanceSnapshotModel.from);
  }

  @Mutation(() => CreateInstanceSnapshotPayload, {
    description: 'A recovery point of every volume of the instance; its volumes are SNAPSHOTTING meanwhile.',
  })
  @RequirePermission(Permission.WRITE)
  async createInstanceSnapshot(
    @CurrentPrincipal() principal: Principal,
    @Args('input', { description: "The instance and the recovery point's options." })
    input: CreateInstanceSnapshotInput,
  ): Promise<CreateInstanceSnapshotPayload> {
    const { instanceSnapshot, job } = await this.service.create(principal, input);
    return { instanceSnapshot: InstanceSnapshotModel.from(instanceSnapshot), job: JobModel.from(job) };
  }

  @Mutation(() => RevertToInstanceSnapshotPayload, {
    description: 'Every disk (and the memory, if saved) back to the recovery point; RUNNING after if startAfter.',
  })
  @RequirePermission(Permission.WRITE)
  async revertToInstanceSnapshot(
    @CurrentPrincipal() principal: Principal,
    @Args('input', { description: 'The recovery point to return to.' }) input: RevertToInstanceSnapshotInput,
  ): Promise<RevertToInstanceSnapshotPayload> {
    const { instance, job } = await this.service.revert(principal, input.instanceSnapshotId, input.startAfter ?? false);
    return { instance: InstanceModel.from(instance), job: JobModel.from(job) };
  }

  @Mutation(() => DeleteInstanceSnapshotPayload, {
    description: 'Deletes a recovery point: DESTROYING now, gone when every disk confirms.',
  })
  @RequirePermission(Permission.WRITE)
  async deleteInstanceSnapshot(
    @CurrentPrincipal() principal: Principal,
    @Args('input', { description: 'The recovery point to delete.' }) input: DeleteInstanceSnapshotInput,
  ): Promise<DeleteInstanceSnapshotPayload> {
    const { instanceSnapshot, job } = await this.service.delete(principal, input.instanceSnapshotId);
    return { instanceSnapshot: InstanceSnapshotModel.from(instanceSnapshot), job: JobModel.from(job) };
  }

  @ResolveField(() => InstanceModel, { description: 'The instance it captures.' })
  async instance(
    @Parent() instanceSnapshot: InstanceSnapshotModel,
    @Context() ctx: GraphQLContext,
  ): Promise<InstanceModel> {
    return InstanceModel.from(await loadRequired(ctx.loaders.instances, 'Instance', instanceSnapshot.instanceId));
  }

  @ResolveField(() => JobModel, {
    nullable: true,
    description: 'The job of the latest create or delete of this recovery point.',
  })
  async job(
    @Parent() instanceSnapshot: InstanceSnapshotModel,
    @Context() ctx: GraphQLContext,
  ): Promise<JobModel | null> {
    const row = instanceSnapshot.lastJobId ? await ctx.loaders.jobs.load(instanceSnapshot.lastJobId) : null;
    return row ? JobModel.from(row) : null;
  }
}
