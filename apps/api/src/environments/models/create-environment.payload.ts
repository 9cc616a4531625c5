import { Field, ObjectType } from '@nestjs/graphql';
import { EnvironmentModel } from './environment.model.js';

@ObjectType({ description: 'The environment created.' })
export class CreateEnvironmentPayload {
  @Field(() => EnvironmentModel, { description: 'The new environment.' })
  environment!: EnvironmentModel;
}
