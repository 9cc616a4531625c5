import { Field, ID, ObjectType } from '@nestjs/graphql';
import { InstanceState } from '@snapdeck/domain';
import type { InstanceEntity } from '@snapdeck/persistence';
import { Connection } from '../../common/connection.model.js';
import { NodeModel } from '../../common/node.model.js';

@ObjectType('Instance', { implements: () => [NodeModel] })
export class InstanceModel implements NodeModel {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field(() => InstanceState)
  state!: InstanceState;

  @Field()
  createdAt!: Date;

  organizationId!: string;
  environmentId!: string;
  hostId!: string | null;

  static from(row: InstanceEntity): InstanceModel {
    return Object.assign(new InstanceModel(), {
      id: row.id,
      name: row.name,
      state: row.state,
      createdAt: row.createdAt,
      organizationId: row.organizationId,
      environmentId: row.environmentId,
      hostId: row.hostId,
    });
  }
}

@ObjectType('InstanceConnection')
export class InstanceConnection extends Connection(InstanceModel, 'Instance') {}
