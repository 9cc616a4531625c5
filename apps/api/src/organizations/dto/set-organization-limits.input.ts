import { Field, ID, InputType, Int } from '@nestjs/graphql';
import { IsInt, IsOptional, IsUUID, Max, Min } from 'class-validator';

const MAX_LIMIT = 2147483647;
const described = (what: string) =>
  `Most ${what} the organization may hold; null removes the limit, leaving the field out keeps it. Not negative.`;

/** A field left out keeps its value: the pipe keeps `undefined` (left out) apart from `null` (no limit). */
@InputType({ description: 'New limits for one organization; only the fields given change.' })
export class SetOrganizationLimitsInput {
  @Field(() => ID, { description: 'The organization whose limits change.' })
  @IsUUID('all', { message: 'organizationId is not a valid id' })
  organizationId!: string;

  @Field(() => Int, { nullable: true, description: described('snapshots (a recovery point: one per disk)') })
  @IsOptional()
  @IsInt({ message: 'snapshots must be an integer' })
  @Min(0, { message: 'snapshots must not be negative' })
  @Max(MAX_LIMIT)
  snapshots?: number | null;

  @Field(() => Int, { nullable: true, description: described('GiB of snapshots') })
  @IsOptional()
  @IsInt({ message: 'snapshotGiB must be an integer' })
  @Min(0, { message: 'snapshotGiB must not be negative' })
  @Max(MAX_LIMIT)
  snapshotGiB?: number | null;

  @Field(() => Int, { nullable: true, description: described('instances') })
  @IsOptional()
  @IsInt({ message: 'instances must be an integer' })
  @Min(0, { message: 'instances must not be negative' })
  @Max(MAX_LIMIT)
  instances?: number | null;

  @Field(() => Int, { nullable: true, description: described('GiB of volumes') })
  @IsOptional()
  @IsInt({ message: 'volumeGiB must be an integer' })
  @Min(0, { message: 'volumeGiB must not be negative' })
  @Max(MAX_LIMIT)
  volumeGiB?: number | null;

  @Field(() => Int, { nullable: true, description: described('backups') })
  @IsOptional()
  @IsInt({ message: 'backups must be an integer' })
  @Min(0, { message: 'backups must not be negative' })
  @Max(MAX_LIMIT)
  backups?: number | null;

  @Field(() => Int, { nullable: true, description: described('GiB of backups') })
  @IsOptional()
  @IsInt({ message: 'backupGiB must be an integer' })
  @Min(0, { message: 'backupGiB must not be negative' })
  @Max(MAX_LIMIT)
  backupGiB?: number | null;
}
