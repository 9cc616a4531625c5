import { Field, ID, InputType } from '@nestjs/graphql';
import { IsUUID } from 'class-validator';

@InputType()
export class DeleteSnapshotInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'snapshotId is not a valid id' })
  snapshotId!: string;
}
