import { Field, ID, ObjectType } from '@nestjs/graphql';
import type { OrganizationEntity } from '@snapdeck/persistence';
import { Connection } from '../../common/connection.model.js';
import { NodeModel } from '../../common/node.model.js';

@ObjectType('Organization', { implements: () => [NodeModel] })
export class OrganizationModel implements NodeModel {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field()
  createdAt!: Date;

  static from(row: OrganizationEntity): OrganizationModel {
    return Object.assign(new OrganizationModel(), { id: row.id, name: row.name, createdAt: row.createdAt });
  }
}

@ObjectType('OrganizationConnection')
export class OrganizationConnection extends Connection(OrganizationModel, 'Organization') {}
