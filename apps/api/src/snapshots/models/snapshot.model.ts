import { Field, ID, ObjectType } from '@nestjs/graphql';
import { SnapshotState } from '@snapdeck/domain';
import type { SnapshotEntity } from '@snapdeck/persistence';
import { Connection } from '../../common/connection.model.js';
import { NodeModel } from '../../common/node.model.js';
import type { VolumeModel } from '../../volumes/models/volume.model.js';

@ObjectType('Snapshot', { implements: () => [NodeModel] })
export class SnapshotModel implements NodeModel {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field(() => SnapshotState, {
    description: 'IN_PROGRESS "In progress", COMPLETED "Completed", DESTROYING "Destroying"',
  })
  state!: SnapshotState;

  @Field({
    description:
      "The guest's filesystems were frozen while it was taken (createSnapshot's quiesce). False until COMPLETED.",
  })
  quiesced!: boolean;

  @Field()
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  completedAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'Why the last operation on this snapshot failed.' })
  error!: string | null;

  organizationId!: string;
  environmentId!: string;
  volumeId!: string;
  instanceId!: string | null;
  lastJobId!: string | null;
  /** A removed snapshot's volume as it was when the snapshot went (the volume row may be gone as well). */
  lastKnownVolume?: VolumeModel;

  static from(row: SnapshotEntity): SnapshotModel {
    return Object.assign(new SnapshotModel(), {
      id: row.id,
      name: row.name,
      description: row.description,
      state: row.state,
      quiesced: row.quiesced,
      createdAt: row.createdAt,
      completedAt: row.completedAt,
      error: row.error,
      organizationId: row.organizationId,
      environmentId: row.environmentId,
      volumeId: row.volumeId,
      instanceId: row.instanceId,
      lastJobId: row.lastJobId,
    });
  }
}

@ObjectType('SnapshotConnection')
export class SnapshotConnection extends Connection(SnapshotModel, 'Snapshot') {}
