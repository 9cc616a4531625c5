import { Field, ID, ObjectType } from '@nestjs/graphql';
import type { EnvironmentEntity } from '@snapdeck/persistence';
import { Connection } from '../../common/connection.model.js';
import { NodeModel } from '../../common/node.model.js';

@ObjectType('Environment', {
  implements: () => [NodeModel],
  description: 'A group of instances within an organization (e.g. production).',
})
export class EnvironmentModel implements NodeModel {
  @Field(() => ID, { description: "The environment's id." })
  id!: string;

  @Field({ description: "The environment's name, unique within its organization." })
  name!: string;

  @Field({ description: 'When the environment was made.' })
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

@ObjectType('EnvironmentConnection', { description: 'One page of a list of Environment items (a Relay connection).' })
export class EnvironmentConnection extends Connection(EnvironmentModel, 'Environment') {}
