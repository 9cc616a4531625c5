import { Field, ID, InputType } from '@nestjs/graphql';
import { IsOptional, IsUUID } from 'class-validator';
import { IsInstanceName } from '../../common/validation.js';

@InputType({ description: 'A new instance whose ROOT volume starts from a snapshot (e.g. a troubleshooting clone).' })
export class CreateInstanceFromSnapshotInput {
  @Field(() => ID, { description: 'The COMPLETED snapshot of a ROOT volume to start from.' })
  @IsUUID('all', { message: 'snapshotId is not a valid id' })
  snapshotId!: string;

  @Field(() => ID, { description: "An environment of the caller's own organization." })
  @IsUUID('all', { message: 'environmentId is not a valid id' })
  environmentId!: string;

  @Field({ description: 'A hostname label.' })
  @IsInstanceName()
  name!: string;

  @Field(() => ID, {
    nullable: true,
    description: 'Defaults to the UP host holding the fewest volumes; any host works.',
  })
  @IsOptional()
  @IsUUID('all', { message: 'hostId is not a valid id' })
  hostId?: string | null;
}
