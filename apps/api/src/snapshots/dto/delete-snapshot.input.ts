import { Field, ID, InputType } from '@nestjs/graphql';
import { IsUUID } from 'class-validator';

@InputType({ description: 'The snapshot to delete.' })
export class DeleteSnapshotInput {
  @Field(() => ID, { description: "The snapshot's id." })
  @IsUUID('all', { message: 'snapshotId is not a valid id' })
  snapshotId!: string;
}
