import { Field, ID, ObjectType } from '@nestjs/graphql';
import type { ApiTokenEntity } from '@snapdeck/persistence';

/** A token's public face: never its secret, which is shown once by createApiToken. */
@ObjectType('ApiToken')
export class ApiTokenModel {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field(() => ID)
  userId!: string;

  @Field()
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
