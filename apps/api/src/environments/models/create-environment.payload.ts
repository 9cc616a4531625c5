import { Field, ObjectType } from '@nestjs/graphql';
import { EnvironmentModel } from './environment.model.js';

@ObjectType()
export class CreateEnvironmentPayload {
  @Field(() => EnvironmentModel)
  environment!: EnvironmentModel;
}
