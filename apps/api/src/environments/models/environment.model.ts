import { Field, ID, ObjectType } from '@nestjs/graphql';
import type { EnvironmentEntity } from '@snapdeck/persistence';
import { Connection } from '../../common/connection.model.js';
import { NodeModel } from '../../common/node.model.js';

@ObjectType('Environment', { implements: () => [NodeModel] })
export class EnvironmentModel implements NodeModel {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field()
  createdAt!: Date;

  organizationId!: string;

  static from(row: EnvironmentEntity): EnvironmentModel {
    return Object.assign(new EnvironmentModel(), {
      id: row.id,
      name: row.name,
      createdAt: row.createdAt,
      organizationId: row.organizationId,
    });
  }
}

@ObjectType('EnvironmentConnection')
export class EnvironmentConnection extends Connection(EnvironmentModel, 'Environment') {}
