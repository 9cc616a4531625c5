import { Field, ID, InputType } from '@nestjs/graphql';
import { IsUUID } from 'class-validator';

@InputType({ description: 'The policy to delete (its snapshots stay, as snapshots taken by hand).' })
export class DeleteSnapshotPolicyInput {
  @Field(() => ID, { description: "The policy's id." })
  @IsUUID('all', { message: 'snapshotPolicyId is not a valid id' })
  snapshotPolicyId!: string;
}
