import { Field, ID, Int, ObjectType } from '@nestjs/graphql';
import { VolumeState, VolumeType } from '@snapdeck/domain';
import type { VolumeEntity } from '@snapdeck/persistence';
import { Connection } from '../../common/connection.model.js';
import { NodeModel } from '../../common/node.model.js';

@ObjectType('Volume', { implements: () => [NodeModel] })
export class VolumeModel implements NodeModel {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field(() => VolumeType)
  type!: VolumeType;

  @Field(() => VolumeState)
  state!: VolumeState;

  @Field(() => Int)
  sizeGiB!: number;

  @Field()
  createdAt!: Date;

  organizationId!: string;
  environmentId!: string;
  instanceId!: string | null;
  hostId!: string;

  static from(
    row: Pick<
      VolumeEntity,
      | 'id'
      | 'name'
      | 'type'
      | 'state'
      | 'sizeGiB'
      | 'createdAt'
      | 'organizationId'
      | 'environmentId'
      | 'instanceId'
      | 'hostId'
    >,
  ): VolumeModel {
    return Object.assign(new VolumeModel(), {
      id: row.id,
      name: row.name,
      type: row.type,
      state: row.state,
      sizeGiB: row.sizeGiB,
      createdAt: row.createdAt,
      organizationId: row.organizationId,
      environmentId: row.environmentId,
      instanceId: row.instanceId,
      hostId: row.hostId,
    });
  }
}

@ObjectType('VolumeConnection')
export class VolumeConnection extends Connection(VolumeModel, 'Volume') {}
