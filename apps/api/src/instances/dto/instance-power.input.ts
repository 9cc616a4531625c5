import { Field, ID, InputType } from '@nestjs/graphql';
import { IsUUID } from 'class-validator';

@InputType({ description: 'The instance to start.' })
export class StartInstanceInput {
  @Field(() => ID, { description: "The STOPPED instance's id." })
  @IsUUID('all', { message: 'instanceId is not a valid id' })
  instanceId!: string;
}

@InputType({ description: 'The instance to stop.' })
export class StopInstanceInput {
  @Field(() => ID, { description: "The RUNNING instance's id." })
  @IsUUID('all', { message: 'instanceId is not a valid id' })
  instanceId!: string;
}
