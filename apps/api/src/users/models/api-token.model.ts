import { Field, ID, ObjectType } from '@nestjs/graphql';
import type { ApiTokenEntity } from '@snapdeck/persistence';
import { Connection } from '../../common/connection.model.js';
import { NodeModel } from '../../common/node.model.js';

/** A token's public face: never its secret (shown once by createApiToken) nor the secret's hash. */
@ObjectType('ApiToken', {
  implements: () => [NodeModel],
  description:
    "A bearer token of a user. Listed by apiTokens (the caller's own; an ORG_ADMIN's: its organization's), " +
    'found by node(id) with the same visibility. The secret itself is never shown again after createApiToken.',
})
export class ApiTokenModel implements NodeModel {
  @Field(() => ID, { description: 'The token id (a UUID), not its secret.' })
  id!: string;

  @Field({ description: 'The name given when the token was made, to tell tokens apart.' })
  name!: string;

  @Field(() => ID, { description: 'The user the token acts as.' })
  userId!: string;

  @Field({ description: 'When the token was made.' })
  createdAt!: Date;

  @Field(() => Date, {
    nullable: true,
    description: 'After this instant the token no longer authenticates; null: it never expires.',
  })
  expiresAt!: Date | null;

  @Field(() => Date, {
    nullable: true,
    description: 'When the token last authenticated a request, to the minute; null: never used.',
  })
  lastUsedAt!: Date | null;

  @Field(() => Date, {
    nullable: true,
    description: 'When the token was revoked (it stopped working then); null: not revoked.',
  })
  revokedAt!: Date | null;

  static from(row: ApiTokenEntity): ApiTokenModel {
    return Object.assign(new ApiTokenModel(), {
      id: row.id,
      name: row.name,
      userId: row.userId,
      createdAt: row.createdAt,
      expiresAt: row.expiresAt,
      lastUsedAt: row.lastUsedAt,
      revokedAt: row.revokedAt,
    });
  }
}

@ObjectType('ApiTokenConnection', { description: 'A page of api tokens, newest first.' })
export class ApiTokenConnection extends Connection(ApiTokenModel, 'ApiToken') {}
