import { Field, ObjectType } from '@nestjs/graphql';
import { ApiTokenModel } from './api-token.model.js';
import { UserModel } from './user.model.js';

@ObjectType()
export class CreateUserPayload {
  @Field(() => UserModel)
  user!: UserModel;
}

@ObjectType()
export class CreateApiTokenPayload {
  @Field({ description: 'The bearer secret. It is shown this once and never again.' })
  token!: string;

  @Field(() => ApiTokenModel)
  apiToken!: ApiTokenModel;
}
