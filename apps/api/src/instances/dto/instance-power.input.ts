import { Field, ID, InputType } from '@nestjs/graphql';
import { IsUUID } from 'class-validator';

@InputType()
export class StartInstanceInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'instanceId is not a valid id' })
  instanceId!: string;
}

@InputType()
export class StopInstanceInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'instanceId is not a valid id' })
  instanceId!: string;
}
