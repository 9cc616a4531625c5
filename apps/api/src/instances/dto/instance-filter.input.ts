import { Field, ID, InputType } from '@nestjs/graphql';
import { IsOptional, IsUUID } from 'class-validator';

@InputType({ description: 'Which instances to list.' })
export class InstanceFilter {
  @Field(() => ID, { nullable: true, description: 'Only instances of this environment.' })
  @IsOptional()
  @IsUUID('all', { message: 'environmentId is not a valid id' })
  environmentId?: string | null;
}
