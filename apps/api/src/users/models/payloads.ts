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

@ObjectType({ description: 'What revokeApiToken answers.' })
export class RevokeApiTokenPayload {
  @Field(() => ApiTokenModel, { description: 'The token, revokedAt set; it stopped working at once.' })
  apiToken!: ApiTokenModel;
}

@ObjectType({ description: 'What updateUser answers.' })
export class UpdateUserPayload {
  @Field(() => UserModel, { description: 'The user as it is now.' })
  user!: UserModel;
}

@ObjectType({ description: 'What deleteUser answers.' })
export class DeleteUserPayload {
  @Field(() => UserModel, { description: 'The user as it was before it was deleted (with its tokens).' })
  user!: UserModel;
}
