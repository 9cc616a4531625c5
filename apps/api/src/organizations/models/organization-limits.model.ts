import { Field, Int, ObjectType } from '@nestjs/graphql';
import type { OrganizationLimits, OrganizationUsage } from '@snapdeck/domain';

@ObjectType('OrganizationLimits', {
  description:
    'The most an organization may hold at once (CloudStack resource limits, Cinder quotas); null: no limit. A ' +
    'request that would pass one fails with QUOTA_EXCEEDED and extensions { resource, limit, used, requested }.',
})
export class OrganizationLimitsModel implements OrganizationLimits {
  @Field(() => Int, {
    nullable: true,
    description: 'Volume snapshots; a recovery point counts one per disk it holds. Every row counts until removed.',
  })
  snapshots!: number | null;

  @Field(() => Int, {
    nullable: true,
    description: "GiB of snapshots: each counts its volume's virtual size, as Cinder does (recovery points too).",
  })
  snapshotGiB!: number | null;

  @Field(() => Int, { nullable: true, description: 'Instances, in any state until destroyed.' })
  instances!: number | null;

  @Field(() => Int, { nullable: true, description: 'GiB of volumes by virtual size, in any state until destroyed.' })
  volumeGiB!: number | null;

  @Field(() => Int, { nullable: true, description: 'Backups (none can be made yet).' })
  backups!: number | null;

  @Field(() => Int, { nullable: true, description: 'GiB of backups (none can be made yet).' })
  backupGiB!: number | null;
}

@ObjectType('OrganizationUsage', {
  description: 'What an organization holds now, counted from its resources the way its limits count them.',
})
export class OrganizationUsageModel implements OrganizationUsage {
  @Field(() => Int, { description: 'Volume snapshots in any state, plus one per disk of every recovery point.' })
  snapshots!: number;

  @Field(() => Int, { description: "GiB of those snapshots, each its volume's virtual size." })
  snapshotGiB!: number;

  @Field(() => Int, { description: 'Instances in any state.' })
  instances!: number;

  @Field(() => Int, { description: 'GiB of volumes (virtual size) in any state.' })
  volumeGiB!: number;

  @Field(() => Int, { description: 'Backups: always 0 until backups exist.' })
  backups!: number;

  @Field(() => Int, { description: 'GiB of backups: always 0 until backups exist.' })
  backupGiB!: number;
}
