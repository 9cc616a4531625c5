import { Field, ID, Int, ObjectType } from '@nestjs/graphql';
import { VolumeState, VolumeType } from '@snapdeck/domain';
import type { VolumeEntity } from '@snapdeck/persistence';

import { Connection } from '../../common/connection.model.js';
import { NodeModel } from '../../common/node.model.js';

/** What the Volume type shows of a volume (a removed snapshot's change message carries exactly this). */
export type VolumeRow = Pick<
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
>;

@ObjectType('Volume', {
  implements: () => [NodeModel],
  description: "A virtual disk (a qcow2 image on its host): an instance's ROOT or a DATADISK.",
})
export class VolumeModel implements NodeModel {
  @Field(() => ID, { description: "The volume's id (its image is volumes/<id>.qcow2)." })
  id!: string;

  @Field({ description: 'Its name (ROOT, DATA-1, …).' })
  name!: string;

  @Field(() => VolumeType, { description: 'ROOT or DATADISK.' })
  type!: VolumeType;

  @Field(() => VolumeState, { description: 'Where it is in its life cycle.' })
  state!: VolumeState;

  @Field(() => Int, { description: 'Its virtual size in GiB.' })
  sizeGiB!: number;

  @Field({ description: 'When the volume was made.' })
  createdAt!: Date;

  organizationId!: string;
  environmentId!: string;
  instanceId!: string | null;
  hostId!: string;

  static from(row: VolumeRow): VolumeModel {
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

@ObjectType('VolumeConnection', { description: 'One page of a list of Volume items (a Relay connection).' })
export class VolumeConnection extends Connection(VolumeModel, 'Volume') {}
