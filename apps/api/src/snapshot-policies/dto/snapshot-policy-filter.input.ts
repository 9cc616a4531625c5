import { Field, ID, InputType } from '@nestjs/graphql';
import { IsOptional, IsUUID } from 'class-validator';

@InputType({ description: 'Which snapshot policies to list.' })
export class SnapshotPolicyFilter {
  @Field(() => ID, { nullable: true, description: 'Only the policies of this volume.' })
  @IsOptional()
  @IsUUID('all', { message: 'volumeId is not a valid id' })
  volumeId?: string | null;

  @Field(() => ID, { nullable: true, description: "Only the policies of this instance's volumes." })
  @IsOptional()
  @IsUUID('all', { message: 'instanceId is not a valid id' })
  instanceId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Only the policies of volumes in this environment.' })
  @IsOptional()
  @IsUUID('all', { message: 'environmentId is not a valid id' })
  environmentId?: string | null;
}
