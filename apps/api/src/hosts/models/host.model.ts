import { Field, ID, ObjectType } from '@nestjs/graphql';
import type { AgentDriverName } from '@snapdeck/config';
import { HostState } from '@snapdeck/domain';
import type { HostEntity } from '@snapdeck/persistence';
import { Connection } from '../../common/connection.model.js';
import { HostDriver } from '../../common/enums.graphql.js';
import { NodeModel } from '../../common/node.model.js';

@ObjectType('Host', { implements: () => [NodeModel] })
export class HostModel implements NodeModel {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field(() => HostState)
  state!: HostState;

  @Field(() => HostDriver)
  driver!: AgentDriverName;

  @Field()
  lastHeartbeatAt!: Date;

  static from(row: HostEntity): HostModel {
    return Object.assign(new HostModel(), {
      id: row.id,
      name: row.name,
      state: row.state,
      driver: row.driver as AgentDriverName,
      lastHeartbeatAt: row.lastHeartbeatAt,
    });
  }
}

@ObjectType('HostConnection')
export class HostConnection extends Connection(HostModel, 'Host') {}
