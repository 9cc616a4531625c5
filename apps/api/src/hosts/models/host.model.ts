import { Field, ID, ObjectType } from '@nestjs/graphql';
import { HostState } from '@snapdeck/domain';
import type { HostEntity } from '@snapdeck/persistence';
import { Connection } from '../../common/connection.model.js';
import { NodeModel } from '../../common/node.model.js';

@ObjectType('Host', { implements: () => [NodeModel] })
export class HostModel implements NodeModel {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field(() => HostState)
  state!: HostState;

  @Field()
  driver!: string;

  @Field()
  lastHeartbeatAt!: Date;

  static from(row: HostEntity): HostModel {
    return Object.assign(new HostModel(), {
      id: row.id,
      name: row.name,
      state: row.state,
      driver: row.driver,
      lastHeartbeatAt: row.lastHeartbeatAt,
    });
  }
}

@ObjectType('HostConnection')
export class HostConnection extends Connection(HostModel, 'Host') {}
