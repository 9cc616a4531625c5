import { Context, Parent, ResolveField, Resolver } from '@nestjs/graphql';
import type { GraphQLContext } from '../graphql/context.js';
import { SnapshotModel } from '../snapshots/models/snapshot.model.js';
import { VolumeModel } from '../volumes/models/volume.model.js';
import { SnapshotPolicyModel } from './models/snapshot-policy.model.js';

/** Volume.snapshotPolicies: the policies of a volume, newest first. */
@Resolver(() => VolumeModel)
export class VolumePoliciesResolver {
  @ResolveField(() => [SnapshotPolicyModel], { description: 'The snapshot policies of this volume, newest first.' })
  async snapshotPolicies(
    @Parent() volume: VolumeModel,
    @Context() ctx: GraphQLContext,
  ): Promise<SnapshotPolicyModel[]> {
    const now = new Date();
    return (await ctx.loaders.policiesByVolume.load(volume.id)).map((row) => SnapshotPolicyModel.from(row, now));
  }
}

/** Snapshot.policy: the policy that took it, null for one taken by hand (or whose policy was deleted). */
@Resolver(() => SnapshotModel)
export class SnapshotPolicyFieldResolver {
  @ResolveField(() => SnapshotPolicyModel, {
    nullable: true,
    description: 'The policy that took it; null for a snapshot taken by hand, or once its policy is deleted.',
  })
  async policy(@Parent() snapshot: SnapshotModel, @Context() ctx: GraphQLContext): Promise<SnapshotPolicyModel | null> {
    const row = snapshot.policyId ? await ctx.loaders.snapshotPolicies.load(snapshot.policyId) : null;
    return row ? SnapshotPolicyModel.from(row) : null;
  }
}
