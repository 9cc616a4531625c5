import { Field, ID, Int, ObjectType } from '@nestjs/graphql';
import { InstanceState } from '@snapdeck/domain';
import type { InstanceEntity } from '@snapdeck/persistence';
import { Connection } from '../../common/connection.model.js';
import { NodeModel } from '../../common/node.model.js';

@ObjectType('Instance', {
  implements: () => [NodeModel],
  description: 'A virtual machine: a ROOT volume and DATADISK volumes on one host.',
})
export class InstanceModel implements NodeModel {
  @Field(() => ID, { description: "The instance's id." })
  id!: string;

  @Field({ description: "The instance's name, unique within its environment." })
  name!: string;

  @Field(() => InstanceState, { description: 'Where the instance is in its life cycle.' })
  state!: InstanceState;

  @Field(() => Int, { description: 'Virtual CPUs its domain is defined with.' })
  cpuCount!: number;

  @Field(() => Int, { description: 'Memory its domain is defined with, in MiB.' })
  memoryMiB!: number;

  @Field({ description: 'When the instance was made.' })
  createdAt!: Date;

  organizationId!: string;
  environmentId!: string;
  hostId!: string | null;

  static from(row: InstanceEntity): InstanceModel {
    return Object.assign(new InstanceModel(), {
      id: row.id,
      name: row.name,
      state: row.state,
      cpuCount: row.cpuCount,
      memoryMiB: row.memoryMiB,
      createdAt: row.createdAt,
      organizationId: row.organizationId,
      environmentId: row.environmentId,
      hostId: row.hostId,
    });
  }
}

@ObjectType('InstanceConnection', { description: 'One page of a list of Instance items (a Relay connection).' })
export class InstanceConnection extends Connection(InstanceModel, 'Instance') {}
