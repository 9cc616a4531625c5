import { Field, ID, InputType } from '@nestjs/graphql';
import { IsBoolean, IsUUID } from 'class-validator';

@InputType({ description: "A snapshot's protection." })
export class SetSnapshotProtectionInput {
  @Field(() => ID, { description: "The snapshot's id." })
  @IsUUID('all', { message: 'snapshotId is not a valid id' })
  snapshotId!: string;

  @Field({ description: 'true: never pruned, never deleted until set back to false.' })
  @IsBoolean({ message: 'protected must be a boolean' })
  protected!: boolean;
}
