import { Args, Context, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { notFound, Permission } from '@snapdeck/domain';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import type { Principal } from '../auth/principal.js';
import { RequirePermission } from '../auth/require-permission.decorator.js';
import { toConnection } from '../common/connection.model.js';
import { PageArgs } from '../common/page.args.js';
import type { GraphQLContext } from '../graphql/context.js';
import { VolumeModel } from '../volumes/models/volume.model.js';
import { CreateSnapshotPolicyInput } from './dto/create-snapshot-policy.input.js';
import { DeleteSnapshotPolicyInput } from './dto/delete-snapshot-policy.input.js';
import { SnapshotPolicyFilter } from './dto/snapshot-policy-filter.input.js';
import { UpdateSnapshotPolicyInput } from './dto/update-snapshot-policy.input.js';
import {
  CreateSnapshotPolicyPayload,
  DeleteSnapshotPolicyPayload,
  SnapshotPolicyConnection,
  SnapshotPolicyModel,
  UpdateSnapshotPolicyPayload,
} from './models/snapshot-policy.model.js';
import { SnapshotPoliciesService } from './snapshot-policies.service.js';

@Resolver(() => SnapshotPolicyModel)
export class SnapshotPoliciesResolver {
  constructor(private readonly service: SnapshotPoliciesService) {}

  @Query(() => SnapshotPolicyConnection, { description: 'Snapshot policies the caller may see, newest first.' })
  @RequirePermission(Permission.READ)
  async snapshotPolicies(
    @CurrentPrincipal() principal: Principal,
    @Args() page: PageArgs,
    @Args('filter', { nullable: true, description: 'Which policies (default: all of them).' })
    filter?: SnapshotPolicyFilter,
  ): Promise<SnapshotPolicyConnection> {
    const now = this.service.now();
    return toConnection(await this.service.list(principal, filter ?? {}, page), (row) =>
      SnapshotPolicyModel.from(row, now),
    );
  }

  @Mutation(() => CreateSnapshotPolicyPayload, {
    description:
      'Recurring snapshots of a volume: BAD_USER_INPUT for a bad schedule or time zone, or one too frequent.',
  })
  @RequirePermission(Permission.WRITE)
  async createSnapshotPolicy(
    @CurrentPrincipal() principal: Principal,
    @Args('input', { description: 'The volume, schedule, time zone, keep and notify.' })
    input: CreateSnapshotPolicyInput,
  ): Promise<CreateSnapshotPolicyPayload> {
    return { snapshotPolicy: SnapshotPolicyModel.from(await this.service.create(principal, input)) };
  }

  @Mutation(() => UpdateSnapshotPolicyPayload, { description: 'Changes a snapshot policy (the fields given).' })
  @RequirePermission(Permission.WRITE)
  async updateSnapshotPolicy(
    @CurrentPrincipal() principal: Principal,
    @Args('input', { description: 'The policy and its changes.' }) input: UpdateSnapshotPolicyInput,
  ): Promise<UpdateSnapshotPolicyPayload> {
    return { snapshotPolicy: SnapshotPolicyModel.from(await this.service.update(principal, input)) };
  }

  @Mutation(() => DeleteSnapshotPolicyPayload, {
    description: 'Deletes a snapshot policy; the snapshots it took stay (their policy reads null).',
  })
  @RequirePermission(Permission.WRITE)
  async deleteSnapshotPolicy(
    @CurrentPrincipal() principal: Principal,
    @Args('input', { description: 'The policy to delete.' }) input: DeleteSnapshotPolicyInput,
  ): Promise<DeleteSnapshotPolicyPayload> {
    return { snapshotPolicy: SnapshotPolicyModel.from(await this.service.delete(principal, input.snapshotPolicyId)) };
  }

  @ResolveField(() => VolumeModel, { description: 'The volume it snapshots.' })
  async volume(@Parent() policy: SnapshotPolicyModel, @Context() ctx: GraphQLContext): Promise<VolumeModel> {
    const row = await ctx.loaders.volumes.load(policy.volumeId);
    if (!row) throw notFound('Volume', policy.volumeId);
    return VolumeModel.from(row);
  }
}
