import { Field, ID, ObjectType } from '@nestjs/graphql';
import type { ApiTokenEntity } from '@snapdeck/persistence';

/** A token's public face: never its secret, which is shown once by createApiToken. */
@ObjectType('ApiToken', {
  description: 'A named bearer token of a user. Only its hash is stored; the secret was shown once, at creation.',
})
export class ApiTokenModel {
  @Field(() => ID, { description: "The token's id (not the secret)." })
  id!: string;

  @Field({ description: 'What the token is for, as its creator named it.' })
  name!: string;

  @Field(() => ID, { description: 'The user the token acts as.' })
  userId!: string;

  @Field({ description: 'When the token was made.' })
  createdAt!: Date;

  static from(row: ApiTokenEntity): ApiTokenModel {
    return Object.assign(new ApiTokenModel(), {
      id: row.id,
      name: row.name,
      userId: row.userId,
      createdAt: row.createdAt,
    });
  }
}
