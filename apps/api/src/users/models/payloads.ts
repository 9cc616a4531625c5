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
