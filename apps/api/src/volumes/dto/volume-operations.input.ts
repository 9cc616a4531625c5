import { Field, ID, InputType } from '@nestjs/graphql';
import { IsOptional, IsUUID } from 'class-validator';
import { IsResourceName } from '../../common/validation.js';

@InputType()
export class RevertVolumeToSnapshotInput {
  @Field(() => ID, { description: 'A COMPLETED snapshot; its volume goes back to it, and every snapshot stays.' })
  @IsUUID('all', { message: 'snapshotId is not a valid id' })
  snapshotId!: string;
}

@InputType()
export class CreateVolumeFromSnapshotInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'snapshotId is not a valid id' })
  snapshotId!: string;

  @Field()
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
