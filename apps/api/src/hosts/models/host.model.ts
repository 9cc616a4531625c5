import { Field, ID, ObjectType } from '@nestjs/graphql';
import type { AgentDriverName } from '@snapdeck/config';
import { HostState } from '@snapdeck/domain';
import type { HostEntity } from '@snapdeck/persistence';
import { Connection } from '../../common/connection.model.js';
import { HostDriver } from '../../common/enums.graphql.js';
import { NodeModel } from '../../common/node.model.js';

@ObjectType('Host', { implements: () => [NodeModel], description: 'A KVM node, registered by its agent.' })
export class HostModel implements NodeModel {
  @Field(() => ID, { description: "The host's id." })
  id!: string;

  @Field({ description: "The host's name (AGENT_HOST_NAME of its agent)." })
  name!: string;

  @Field(() => HostState, { description: 'UP while heartbeats arrive, DOWN when they stop.' })
  state!: HostState;

  @Field(() => HostDriver, { description: 'How its agent carries operations out.' })
  driver!: AgentDriverName;

  @Field({ description: "The agent's last heartbeat." })
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

@ObjectType('HostConnection', { description: 'One page of a list of Host items (a Relay connection).' })
export class HostConnection extends Connection(HostModel, 'Host') {}
