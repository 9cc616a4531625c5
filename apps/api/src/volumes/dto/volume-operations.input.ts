import { Field, ID, InputType } from '@nestjs/graphql';
import { IsOptional, IsUUID } from 'class-validator';
import { IsResourceName } from '../../common/validation.js';

@InputType({ description: 'The snapshot to roll its volume back to.' })
export class RevertVolumeToSnapshotInput {
  @Field(() => ID, { description: 'A COMPLETED snapshot; its volume goes back to it, and every snapshot stays.' })
  @IsUUID('all', { message: 'snapshotId is not a valid id' })
  snapshotId!: string;
}

@InputType({ description: "A new DATADISK volume holding a snapshot's data." })
export class CreateVolumeFromSnapshotInput {
  @Field(() => ID, { description: 'The COMPLETED snapshot to copy.' })
  @IsUUID('all', { message: 'snapshotId is not a valid id' })
  snapshotId!: string;

  @Field({ description: "The volume's name." })
  @IsResourceName()
  name!: string;

  @Field(() => ID, {
    nullable: true,
    description: 'Attach the new DATADISK to this instance (it is placed on its host).',
  })
  @IsOptional()
  @IsUUID('all', { message: 'instanceId is not a valid id' })
  instanceId?: string | null;
}
