import { Field, ObjectType } from '@nestjs/graphql';
import { ApiTokenModel } from './api-token.model.js';
import { UserModel } from './user.model.js';

@ObjectType({ description: 'The user created.' })
export class CreateUserPayload {
  @Field(() => UserModel, { description: 'The new user.' })
  user!: UserModel;
}

@ObjectType({ description: 'The new token and, once only, its secret.' })
export class CreateApiTokenPayload {
  @Field({ description: 'The bearer secret. It is shown this once and never again.' })
  token!: string;

  @Field(() => ApiTokenModel, { description: 'The token as listed from now on (without the secret).' })
  apiToken!: ApiTokenModel;
}
