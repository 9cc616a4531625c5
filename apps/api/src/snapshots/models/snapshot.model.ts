import { Field, ID, ObjectType } from '@nestjs/graphql';
import { SnapshotState } from '@snapdeck/domain';
import type { SnapshotEntity } from '@snapdeck/persistence';
import { Connection } from '../../common/connection.model.js';
import { NodeModel } from '../../common/node.model.js';
import type { VolumeModel } from '../../volumes/models/volume.model.js';

@ObjectType('Snapshot', {
  implements: () => [NodeModel],
  description: "A point-in-time copy of one volume, kept on the volume's disk.",
})
export class SnapshotModel implements NodeModel {
  @Field(() => ID, { description: "The snapshot's id (also its tag on the qcow2 image)." })
  id!: string;

  @Field({ description: 'Its name (auto-named <instance>_<volume>_<yyyyMMddHHmmss> unless named).' })
  name!: string;

  @Field(() => String, { nullable: true, description: 'Free text kept with it.' })
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

  @Field({
    description:
      'Protected (setSnapshotProtection): never pruned by its policy, not counted toward its keep, and deleteSnapshot refuses it (PRECONDITION_FAILED).',
  })
  protected!: boolean;

  @Field({ description: 'When it was asked for.' })
  createdAt!: Date;

  @Field(() => Date, { nullable: true, description: 'When the snapshot reached COMPLETED.' })
  completedAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'Why the last operation on this snapshot failed.' })
  error!: string | null;

  organizationId!: string;
  environmentId!: string;
  volumeId!: string;
  instanceId!: string | null;
  lastJobId!: string | null;
  /** The policy that took it; the resolver reads it (Snapshot.policy). */
  policyId!: string | null;
  /** A removed snapshot's volume as it was when the snapshot went (the volume row may be gone as well). */
  lastKnownVolume?: VolumeModel;

  /** From a row, or from what the change feed carries of one (the orchestration-only columns left out). */
  static from(row: Omit<SnapshotEntity, 'pendingRestoreBackupId'>): SnapshotModel {
    return Object.assign(new SnapshotModel(), {
      id: row.id,
      name: row.name,
      description: row.description,
      state: row.state,
      quiesced: row.quiesced,
      protected: row.protected,
      createdAt: row.createdAt,
      completedAt: row.completedAt,
      error: row.error,
      organizationId: row.organizationId,
      environmentId: row.environmentId,
      volumeId: row.volumeId,
      instanceId: row.instanceId,
      lastJobId: row.lastJobId,
      policyId: row.policyId,
    });
  }
}

@ObjectType('SnapshotConnection', { description: 'One page of a list of Snapshot items (a Relay connection).' })
export class SnapshotConnection extends Connection(SnapshotModel, 'Snapshot') {}
